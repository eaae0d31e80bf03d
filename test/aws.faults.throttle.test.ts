// A throttling storm on the offline AWS backend: for 30 s every SQS request and every Lambda
// Invoke of the app's clients answers AWS's throttling or "try again" errors (in turn), while a
// map through invokes, a map through SQS and a burst of spawns run. The clients ride through:
// nothing is lost, every result is right.
import { Function_ } from "faasade";
import { afterAll, describe, expect, it } from "vitest";
import { getAll, mapAll, providerWith, spawnAll, startFaulty, tags, tallyResults, expectNoneLost } from "./faults/harness.js";

const STORM_MS = 30_000;
const f = await startFaulty();
afterAll(() => f.close());

describe("a 30 s throttling storm on SQS and Lambda Invoke (aws offline backend)", { timeout: 150_000 }, () => {
  it("maps (invokes and SQS) and spawns during the storm: 0 lost, every result right", async () => {
    const provider = await providerWith(f, { fanOutFrom: 1 });
    const queued = Function_.fromName<(tag: string, ms?: number) => unknown>("faults-app", "work", { provider });
    // Warm: the first requests (GetQueueUrl, cold environments) are not what this measures.
    expect(await f.work.remote("warm")).toEqual({ tag: "warm", attempt: 1 });
    expect((await mapAll(queued, ["warm-q"]))[0]).toEqual({ tag: "warm-q", attempt: 1 });
    expect(await (await f.work.spawn("warm-s")).get()).toEqual({ tag: "warm-s", attempt: 1 });
    const invoked = tags("storm-invoke-map", 40);
    const viaQueue = tags("storm-queue-map", 40);
    const spawned = tags("storm-spawn", 40);
    const started = Date.now();
    f.faults.storage.refuse({ services: ["sqs"], ms: STORM_MS, kinds: ["throttle", "unavailable"] });
    f.faults.lambda.refuse({ services: ["lambda"], ops: /^Invoke/, ms: STORM_MS, kinds: ["throttle", "unavailable"] });
    try {
      const [a, b, c] = await Promise.all([
        mapAll(f.work, invoked, 100),
        mapAll(queued, viaQueue, 100),
        spawnAll(f.work, spawned, 100).then((calls) => getAll(calls, 90_000)),
      ]);
      const endedAt = Date.now();
      const counts = { ...f.faults.storage.takeCounts(), ...f.faults.lambda.takeCounts() };
      const runs = f.runs();
      const rows = [
        tallyResults("throttling storm: map (invokes)", invoked, a, runs, started, counts, endedAt),
        tallyResults("throttling storm: map (SQS)", viaQueue, b, runs, started, counts, endedAt),
        tallyResults("throttling storm: spawns", spawned, c, runs, started, counts, endedAt),
      ];
      // The storm was real: requests of both services were refused, with both kinds of answer.
      expect(Object.keys(counts).some((k) => k.startsWith("refused:lambda:Invoke"))).toBe(true);
      expect(counts["refused:sqs:SendMessageBatch"] ?? 0).toBeGreaterThan(0);
      expectNoneLost(rows, [a, b, c]);
      for (const row of rows) expect(row.attempts).toEqual({ 1: row.inputs });
      expect(a).toEqual(invoked.map((tag) => ({ tag, attempt: 1 })));
      expect(b).toEqual(viaQueue.map((tag) => ({ tag, attempt: 1 })));
    } finally {
      f.faults.storage.clear();
      f.faults.lambda.clear();
      await provider.close();
    }
  });
});
