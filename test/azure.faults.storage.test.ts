// Bursts of Blob Storage server errors (503 ServerBusy, 500 InternalError and OperationTimedOut,
// 1.5 s on, 1.5 s off, four times) on the offline Azure backend, during a map through the queue, a
// burst of spawns and spawned generators. First only the runtime's writes (results, map results,
// generator values) are refused: the consumer rides through them. Then every Blob request is, the
// clients' reads and writes too.
import { afterAll, describe, it } from "vitest";
import { startFaultyAzure } from "./faults/azure-harness.js";
import { burstsOnEveryRequest, burstsOnRuntimeWrites } from "./faults/storms.js";

const f = await startFaultyAzure();
afterAll(() => f.close());
const times = { underWayMs: 60_000, withinMs: 90_000 };

describe("Blob Storage 5xx bursts (azure offline backend, fault proxy)", { timeout: 180_000 }, () => {
  it("on the runtime's writes only (results, map results, generator values): 0 lost", () => burstsOnRuntimeWrites(f, times));

  it("on every Blob request (the clients' reads and writes too): 0 lost", () => burstsOnEveryRequest(f, times));
});
