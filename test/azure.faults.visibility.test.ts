// Late redelivery on the offline Azure backend: a message that comes back while, or after, its input
// ran. The host's queue trigger holds a running message invisible for 2 s here, renewing that lease
// at half of it; with the Queue service down for 3 s mid-run the renewals fail, the message becomes
// visible again and is delivered once more while its input still runs. Then the instances running
// inputs are killed: their messages come back once the host sees the runs end. Nothing is lost, and
// each call still has exactly one result.
import { afterAll, describe, expect, it } from "vitest";
import { getAll, ranSoFar, spawnAll, startFaultyAzure, tags, tallyResults, until } from "./faults/azure-harness.js";

const f = await startFaultyAzure({ visibilityMs: 2000 });
afterAll(() => f.close());
await f.warm();

/** The function app of `work` (its instances' pids). */
const workSite = () => {
  const site = [...f.backend.arm.sites.keys()].find((name) => name.includes("faults-app-work"));
  if (site === undefined) throw new Error(`no function app for work among ${[...f.backend.arm.sites.keys()].join(", ")}`);
  return site;
};

describe("late redelivery (azure offline backend, fault proxy)", { timeout: 120_000 }, () => {
  it("the lease lapsing mid-run (Queue down 3 s, lease 2 s): delivered again while it runs, one right result per call", async () => {
    const RUN_MS = 6000; // below work's timeout (8 s)
    const expected = tags("lapsed", 5);
    f.backend.takeRequestCounts();
    const started = Date.now();
    const calls = await spawnAll(f.work, expected, RUN_MS);
    await until("every input running", () => ranSoFar(f, "lapsed") >= expected.length, 30_000);
    await f.restart("queue", 3000);
    const results = await getAll(calls, 60_000);
    const endedAt = Date.now();
    // A run begun by the later delivery ends too: let it write.
    await new Promise((r) => setTimeout(r, RUN_MS));
    const counts = { ...f.takeCounts(), ...f.backend.takeRequestCounts() };
    const t = tallyResults("lease lapsed mid-run (spawn)", expected, results, f.runs(), started, counts, endedAt);
    expect(counts["restart:queue"]).toBe(1);
    // Each message was delivered again mid-run: deleted by both deliveries (the first one's receipt stale by then).
    expect(counts["host:delete"]).toBeGreaterThan(expected.length);
    expect(t).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: expected.length } });
    // The later delivery cannot tell a lapsed lease from an ended run: it may run the input again, once.
    expect(t.runs).toBeLessThanOrEqual(2 * expected.length);
    for (const [i, call] of calls.entries())
      expect(call instanceof Error ? call : await call.get()).toEqual({ tag: expected[i], attempt: 1 });
  });

  it("the instances running spawned inputs killed: each message comes back and runs again, one right result per call", async () => {
    const expected = tags("crashed", 8);
    const started = Date.now();
    const calls = await spawnAll(f.work, expected, 3000);
    await until("every input running", () => ranSoFar(f, "crashed") >= expected.length, 30_000);
    const pids = f.backend.host.pids(workSite());
    for (const pid of pids) process.kill(pid, "SIGKILL");
    const results = await getAll(calls, 60_000);
    const t = tallyResults("instances killed mid-run (spawn)", expected, results, f.runs(), started, { killed: pids.length });
    expect(pids.length).toBeGreaterThan(0);
    expect(t).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: expected.length } });
    // Each ran once more after the crash, under the same attempt (a crash in user code uses none: Azure's host only saw the run end).
    for (const tag of expected) expect(f.runs().get(tag)).toEqual([1, 1]);
  });
});
