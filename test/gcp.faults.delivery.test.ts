// Duplicate and late delivery on the offline gcp backend: Cloud Tasks delivers at least once,
// and the Tasks double delivers every task again (6 s later, 2 s later while it runs, or at once),
// either as a redelivery (the next retry count: Cloud Tasks retrying a dispatch it saw fail) or as
// the platform's rare duplicate (the same retry count). A redelivery is idempotent by result and
// retried marker (src/cloud/consumer.ts) and runs nothing again; a first delivery reads nothing
// before it runs, so a duplicate of it may run the input again. Either way a call has one result,
// with the right attempt.
import { afterAll, describe, expect, it } from "vitest";
import { getAll, mapAll, providerWith, spawnAll, startFaultyGcp, tags, tallyResults, until, warm } from "./faults/gcp-harness.js";

const f = await startFaultyGcp();
afterAll(() => f.close());
// Warm instances: a first run finishes well before its copies, 6 s later, arrive.
await warm(f);

/** Copies the Tasks double has delivered (and heard back from) since `since`. */
const copiesSince = (since: number) => f.doubles.tasks.dispatches.filter((d) => d.copy && d.startedAt >= since).length;

describe("duplicate Cloud Tasks delivery (gcp offline backend, Tasks double)", { timeout: 120_000 }, () => {
  it("a spawn redelivered twice (6 s later) runs once: the redeliveries find its result", async () => {
    const expected = tags("dup-late", 20);
    const started = Date.now();
    f.doubles.tasks.duplicate({ ms: 10_000, copies: 2, delaySeconds: 6, asRedeliveries: true });
    const calls = await spawnAll(f.work, expected);
    const results = await getAll(calls, 60_000);
    // Every copy is delivered and answered: 3 deliveries per call.
    await until(`${2 * expected.length} copies delivered`, () => copiesSince(started) >= 2 * expected.length, 60_000);
    f.doubles.tasks.clearDuplicates();
    const t = tallyResults("tasks redelivery, late", expected, results, f.runs(), started, { copies: copiesSince(started) });
    expect(t).toMatchObject({ lost: 0, duplicated: 0, runs: expected.length, attempts: { 1: expected.length } });
    for (const tag of expected) expect(f.runs().get(tag)).toEqual([1]);
  });

  it("a retried spawn redelivered once per attempt: attempt 1 runs once, attempt 2 once, the result says attempt 2", async () => {
    const expected = tags("dup-retry", 10);
    const started = Date.now();
    // The runtime's retry is a task of its own, redelivered as well.
    f.doubles.tasks.duplicate({ ms: 20_000, copies: 1, delaySeconds: 6, asRedeliveries: true });
    const calls = await spawnAll(f.flaky, expected);
    const results = await getAll(calls, 60_000);
    await until(`${2 * expected.length} copies delivered`, () => copiesSince(started) >= 2 * expected.length, 60_000);
    f.doubles.tasks.clearDuplicates();
    const t = tallyResults("tasks redelivery, retried call", expected, results, f.runs(), started, {
      copies: copiesSince(started),
    });
    expect(t).toMatchObject({ lost: 0, duplicated: 0, runs: 2 * expected.length, attempts: { 2: expected.length } });
    for (const tag of expected) expect(f.runs().get(tag)).toEqual([1, 2]);
  });

  it("a spawn duplicated 6 s later (the same retry count) may run again: one result per call, the right one", async () => {
    const expected = tags("dup-same", 20);
    const started = Date.now();
    f.doubles.tasks.duplicate({ ms: 10_000, copies: 2, delaySeconds: 6 });
    const calls = await spawnAll(f.work, expected);
    const results = await getAll(calls, 60_000);
    await until(`${2 * expected.length} copies delivered`, () => copiesSince(started) >= 2 * expected.length, 60_000);
    f.doubles.tasks.clearDuplicates();
    const t = tallyResults("tasks duplicate (same retry count), late", expected, results, f.runs(), started, {
      copies: copiesSince(started),
    });
    expect(t).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: expected.length } });
    // At most one run per delivery, each of attempt 1; the copies' results were not written over the first.
    for (const tag of expected)
      expect(
        f
          .runs()
          .get(tag)
          ?.every((attempt) => attempt === 1),
      ).toBe(true);
    expect(t.runs).toBeLessThanOrEqual(3 * expected.length);
  });

  it("spawns and a map through Cloud Tasks whose tasks arrive twice at once: each input yields once, the right value", async () => {
    const provider = await providerWith(f, { fanOutFrom: 1 });
    try {
      const queued = f.fn("work", provider);
      const mapped = tags("dup-now-map", 40);
      const spawned = tags("dup-now-spawn", 20);
      const started = Date.now();
      f.doubles.tasks.duplicate({ ms: 30_000, copies: 1, delaySeconds: 0 });
      const [a, b] = await Promise.all([
        mapAll(queued, mapped, 200),
        spawnAll(f.work, spawned, 200).then((calls) => getAll(calls, 60_000)),
      ]);
      f.doubles.tasks.clearDuplicates();
      const counts = { copies: copiesSince(started) };
      const rows = [
        tallyResults("tasks duplicate, at once (map)", mapped, a, f.runs(), started, counts),
        tallyResults("tasks duplicate, at once (spawns)", spawned, b, f.runs(), started, counts),
      ];
      expect(counts.copies).toBeGreaterThan(0);
      expect(a.map((r) => (r instanceof Error ? r.message : r.tag))).toEqual(mapped);
      for (const [i, row] of rows.entries()) {
        const inputs = [mapped, spawned][i]?.length ?? 0;
        expect(row).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: inputs } });
        // Each input ran once or twice (both copies may run side by side): never more.
        expect(row.runs).toBeGreaterThanOrEqual(inputs);
        expect(row.runs).toBeLessThanOrEqual(2 * inputs);
      }
    } finally {
      await provider.close();
    }
  });
});
