// Duplicate and late delivery on the offline gcp backend: Cloud Tasks delivers at least once,
// and the Tasks double delivers every task again (6 s later, 2 s later while it runs, or at once),
// either as a redelivery (the next retry count: Cloud Tasks retrying a dispatch it saw fail) or as
// the platform's rare duplicate (the same retry count). A redelivery is idempotent by result and
// retried marker (src/cloud/consumer.ts) and runs nothing again; a first delivery reads nothing
// before it runs, so a duplicate of it may run the input again. Either way a call has one result,
// with the right attempt.
import { afterAll, describe, expect, it } from "vitest";
import { deliveredLate, deliveredTwiceAtOnce, retriedDeliveredTwice } from "./faults/delivery.js";
import { getAll, spawnAll, startFaultyGcp, tags, tallyResults, until } from "./faults/gcp-harness.js";

const f = await startFaultyGcp();
afterAll(() => f.close());
// Warm instances: a first run finishes well before its copies, 6 s later, arrive.
await f.warm();

describe("duplicate Cloud Tasks delivery (gcp offline backend, Tasks double)", { timeout: 120_000 }, () => {
  it("a spawn redelivered twice (6 s later) runs once: the redeliveries find its result", () =>
    deliveredLate(f, { label: "tasks redelivery, late", withinMs: 60_000 }));

  it("a retried spawn redelivered once per attempt: attempt 1 runs once, attempt 2 once, the result says attempt 2", () =>
    retriedDeliveredTwice(f, { label: "tasks redelivery, retried call", windowMs: 20_000, withinMs: 60_000 }));

  it("a spawn duplicated 6 s later (the same retry count) may run again: one result per call, the right one", async () => {
    const expected = tags("dup-same", 20);
    const started = Date.now();
    f.doubles.tasks.duplicate({ ms: 10_000, copies: 2, delaySeconds: 6 });
    const calls = await spawnAll(f.work, expected);
    const results = await getAll(calls, 60_000);
    await until(`${2 * expected.length} copies delivered`, () => f.copiesSince(started) >= 2 * expected.length, 60_000);
    f.doubles.tasks.clearDuplicates();
    const t = tallyResults("tasks duplicate (same retry count), late", expected, results, f.runs(), started, {
      copies: f.copiesSince(started),
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

  it("spawns and a map through Cloud Tasks whose tasks arrive twice at once: each input yields once, the right value", () =>
    deliveredTwiceAtOnce(f, {
      label: "tasks duplicate, at once",
      mapped: 40,
      spawned: 20,
      ms: 200,
      windowMs: 30_000,
      withinMs: 60_000,
    }));
});
