// A throttling storm on the offline gcp backend: for 20 s every Cloud Tasks request and every
// Cloud Storage request (the clients' and the instances') answers Google's 429
// RESOURCE_EXHAUSTED or 503 UNAVAILABLE (in turn), while a map through invokes, a map through
// Cloud Tasks and a burst of spawns run. The clients and the runtime ride through: nothing is
// lost, every result is right.
import { afterAll, describe, expect, it } from "vitest";
import {
  getAll,
  mapAll,
  providerWith,
  spawnAll,
  startFaultyGcp,
  tags,
  tallyResults,
  expectNoneLost,
} from "./faults/gcp-harness.js";

const STORM_MS = 20_000;
const f = await startFaultyGcp();
afterAll(() => f.close());

describe("a 20 s throttling storm on Cloud Tasks and Cloud Storage (gcp offline backend)", { timeout: 180_000 }, () => {
  it("maps (invokes and Cloud Tasks) and spawns during the storm: 0 lost, every result right", async () => {
    const provider = await providerWith(f, { fanOutFrom: 1 });
    const queued = f.fn("work", provider);
    // Warm: the first requests (GetFunction, cold instances) are not what this measures.
    expect(await f.work.remote("warm")).toEqual({ tag: "warm", attempt: 1 });
    expect((await mapAll(queued, ["warm-q"]))[0]).toEqual({ tag: "warm-q", attempt: 1 });
    expect(await (await f.work.spawn("warm-s")).get({ timeoutMs: 60_000 })).toEqual({ tag: "warm-s", attempt: 1 });
    const invoked = tags("storm-invoke-map", 30);
    const viaQueue = tags("storm-queue-map", 30);
    const spawned = tags("storm-spawn", 30);
    const started = Date.now();
    f.faults.tasks.refuse({ services: ["tasks"], ms: STORM_MS, kinds: ["throttle", "unavailable"] });
    f.faults.storage.refuse({ services: ["storage"], ms: STORM_MS, kinds: ["throttle", "unavailable"] });
    try {
      const [a, b, c] = await Promise.all([
        mapAll(f.work, invoked, 100),
        mapAll(queued, viaQueue, 100),
        spawnAll(f.work, spawned, 100).then((calls) => getAll(calls, 120_000)),
      ]);
      const endedAt = Date.now();
      const counts = { ...f.faults.tasks.takeCounts(), ...f.faults.storage.takeCounts() };
      const runs = f.runs();
      const rows = [
        tallyResults("throttling storm: map (invokes)", invoked, a, runs, started, counts, endedAt),
        tallyResults("throttling storm: map (Cloud Tasks)", viaQueue, b, runs, started, counts, endedAt),
        tallyResults("throttling storm: spawns", spawned, c, runs, started, counts, endedAt),
      ];
      // The storm was real: requests of both services were refused.
      expect(counts["refused:tasks:CreateTask"] ?? 0).toBeGreaterThan(0);
      expect(Object.keys(counts).some((k) => k.startsWith("refused:storage:"))).toBe(true);
      expectNoneLost(rows, [a, b, c]);
      for (const row of rows) expect(row.attempts).toEqual({ 1: row.inputs });
      expect(a).toEqual(invoked.map((tag) => ({ tag, attempt: 1 })));
      expect(b).toEqual(viaQueue.map((tag) => ({ tag, attempt: 1 })));
    } finally {
      f.faults.tasks.clear();
      f.faults.storage.clear();
      await provider.close();
    }
  });
});
