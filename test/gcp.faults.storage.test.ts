// Bursts of Cloud Storage server errors (503 UNAVAILABLE and 500 INTERNAL, 1.5 s on, 1.5 s off,
// four times) on the offline gcp backend, during a map through Cloud Tasks, a burst of spawns
// and spawned generators. First only the runtime's writes (results, map results, generator
// values) are refused: the consumer rides through them. Then every Storage request is, the
// clients' reads and writes too.
import { afterAll, describe, it } from "vitest";
import { startFaultyGcp } from "./faults/gcp-harness.js";
import { burstsOnEveryRequest, burstsOnRuntimeWrites } from "./faults/storms.js";

const f = await startFaultyGcp();
afterAll(() => f.close());
const times = { underWayMs: 60_000, withinMs: 90_000 };

describe("Cloud Storage 5xx bursts (gcp offline backend, fault proxy)", { timeout: 180_000 }, () => {
  it("on the runtime's writes only (results, map results, generator values): 0 lost", () => burstsOnRuntimeWrites(f, times));

  it("on every Storage request (the clients' reads and writes too): 0 lost", () => burstsOnEveryRequest(f, times));
});
