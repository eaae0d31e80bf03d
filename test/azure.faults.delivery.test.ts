// Duplicate delivery on the offline Azure backend: Storage Queues deliver at least once, and the
// fault proxy sends every Put Message again (6 s later, or at once): each copy is a message of its
// own, dequeued for the first time, which the host's queue trigger runs. A first delivery runs at
// once, without reads (src/cloud/consumer.ts, `first`), so a copy may run the input again; the call
// still has one result, with the right attempt (the first write stands).
import { afterAll, describe, it } from "vitest";
import { startFaultyAzure } from "./faults/azure-harness.js";
import { deliveredLate, deliveredTwiceAtOnce, retriedDeliveredTwice } from "./faults/delivery.js";

const f = await startFaultyAzure();
afterAll(() => f.close());
// Warm instances: a first run finishes well before its copies, 6 s later, arrive.
await f.warm();

describe("duplicate Storage Queue delivery (azure offline backend, fault proxy)", { timeout: 120_000 }, () => {
  it("a spawn sent three times (copies 6 s later) may run again: one result per call, the right one", () =>
    deliveredLate(f, { label: "queue duplicate, late", withinMs: 60_000, copiesRunAgain: true }));

  it("a retried spawn sent twice per attempt: each attempt runs once or twice, the result says attempt 2", () =>
    retriedDeliveredTwice(f, {
      label: "queue duplicate, retried call",
      windowMs: 20_000,
      withinMs: 60_000,
      copiesRunAgain: true,
    }));

  it("spawns and a map through the queue whose messages arrive twice at once: each input yields once, the right value", () =>
    deliveredTwiceAtOnce(f, {
      label: "queue duplicate, at once",
      mapped: 40,
      spawned: 20,
      ms: 200,
      windowMs: 30_000,
      withinMs: 60_000,
    }));
});
