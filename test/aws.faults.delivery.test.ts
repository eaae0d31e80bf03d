// Duplicate delivery on the offline AWS backend: SQS delivers at least once, and the fault
// proxy sends every message again (later, or at once). The consumer is idempotent by result and
// retried marker (src/cloud/consumer.ts): a call has one result, with the right attempt.
import { afterAll, describe, it } from "vitest";
import { startFaulty } from "./faults/aws-harness.js";
import { deliveredLate, deliveredTwiceAtOnce, retriedDeliveredTwice } from "./faults/delivery.js";

const f = await startFaulty();
afterAll(() => f.close());
// Warm environments: a first run finishes well before its copies, 6 s later, arrive.
await f.warm();

describe("duplicate SQS delivery (aws offline backend, fault proxy)", { timeout: 60_000 }, () => {
  it("a spawn delivered three times (copies 6 s later) runs once: the redeliveries find its result", () =>
    deliveredLate(f, { label: "sqs duplicate, late", withinMs: 20_000 }));

  it("a retried spawn delivered twice per attempt: attempt 1 runs once, attempt 2 once, the result says attempt 2", () =>
    retriedDeliveredTwice(f, { label: "sqs duplicate, retried call", windowMs: 15_000, withinMs: 30_000 }));

  it("a map through SQS whose messages arrive twice at once: each input yields once, the right value", () =>
    deliveredTwiceAtOnce(f, {
      label: "sqs duplicate, at once",
      mapped: 60,
      spawned: 0,
      ms: 0,
      windowMs: 15_000,
      withinMs: 30_000,
    }));
});
