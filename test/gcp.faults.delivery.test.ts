// Duplicate and late delivery on the offline gcp backend: Cloud Tasks delivers at least once,
// and the Tasks double delivers every task again (6 s later, 2 s later while it runs, or at once),
// either as a redelivery (the next retry count: Cloud Tasks retrying a dispatch it saw fail) or as
// the platform's rare duplicate (the same retry count). A redelivery is idempotent by result and
// retried marker (src/cloud/consumer.ts) and runs nothing again; a first delivery reads nothing
// before it runs, so a duplicate of it may run the input again. Either way a call has one result,
// with the right attempt.
import { afterAll, describe, it } from "vitest";
import { deliveredLate, deliveredTwiceAtOnce, retriedDeliveredTwice } from "./faults/delivery.js";
import { startFaultyGcp } from "./faults/gcp-harness.js";

const f = await startFaultyGcp();
afterAll(() => f.close());
// Warm instances: a first run finishes well before its copies, 6 s later, arrive.
await f.warm();

describe("duplicate Cloud Tasks delivery (gcp offline backend, Tasks double)", { timeout: 120_000 }, () => {
  it("a spawn redelivered twice (6 s later) runs once: the redeliveries find its result", () =>
    deliveredLate(f, { label: "tasks redelivery, late", withinMs: 60_000 }));

  it("a retried spawn redelivered once per attempt: attempt 1 runs once, attempt 2 once, the result says attempt 2", () =>
    retriedDeliveredTwice(f, { label: "tasks redelivery, retried call", windowMs: 20_000, withinMs: 60_000 }));

  it("a spawn duplicated 6 s later (the same retry count) may run again: one result per call, the right one", () =>
    deliveredLate(f, { label: "tasks duplicate (same retry count), late", withinMs: 60_000, copiesRunAgain: true }));

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
