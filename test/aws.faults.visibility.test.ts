// Redelivery while an input still runs: the poller's visibility timeout (2 s) is shorter than
// the input's run time (4 s), so SQS hands the message out again mid-run and the input runs
// side by side with itself. Nothing is lost, and each call still has exactly one result.
import { Function_ } from "faasade";
import { afterAll, describe, expect, it } from "vitest";
import { getAll, mapAll, providerWith, spawnAll, startFaulty, tags, tallyResults } from "./faults/harness.js";

const RUN_MS = 4000;
const f = await startFaulty({ visibilitySeconds: 2 });
afterAll(() => f.close());

describe("redelivery after a visibility timeout shorter than the run (aws offline backend)", { timeout: 60_000 }, () => {
  it("spawned calls: each has one right result, though it ran more than once", async () => {
    const expected = tags("vis-spawn", 5);
    const started = Date.now();
    const calls = await spawnAll(f.work, expected, RUN_MS);
    const results = await getAll(calls, 30_000);
    const endedAt = Date.now();
    // A redelivered run still going when the first finished ends too: let them write.
    await new Promise((r) => setTimeout(r, RUN_MS));
    const t = tallyResults("visibility < run time (spawn)", expected, results, f.runs(), started, {}, endedAt);
    expect(t).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: expected.length } });
    // The copies delivered while the first still ran were handed back (its start mark is recent): one run each.
    expect(t.runs).toBe(expected.length);
    // The result read again is the same one (a later run's write leaves the same outcome).
    for (const [i, call] of calls.entries())
      expect(call instanceof Error ? call : await call.get()).toEqual({ tag: expected[i], attempt: 1 });
  });

  it("a map through SQS: every input yields once, with the right value", async () => {
    const provider = await providerWith(f, { fanOutFrom: 1 });
    try {
      const work = Function_.fromName<(tag: string, ms?: number) => unknown>("faults-app", "work", { provider });
      const expected = tags("vis-map", 5);
      const started = Date.now();
      const results = await mapAll(work, expected, RUN_MS);
      const endedAt = Date.now();
      await new Promise((r) => setTimeout(r, RUN_MS));
      const t = tallyResults("visibility < run time (map)", expected, results, f.runs(), started, {}, endedAt);
      expect(results.map((r) => (r instanceof Error ? r.message : r.tag))).toEqual(expected);
      expect(t).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: expected.length } });
      expect(t.runs).toBe(expected.length);
    } finally {
      await provider.close();
    }
  });
});
