// A throttling storm on the offline gcp backend: for 20 s every Cloud Tasks request and every
// Cloud Storage request (the clients' and the instances') answers Google's 429
// RESOURCE_EXHAUSTED or 503 UNAVAILABLE (in turn), while a map through invokes, a map through
// Cloud Tasks and a burst of spawns run. The clients and the runtime ride through: nothing is
// lost, every result is right.
import { afterAll, describe, it } from "vitest";
import { startFaultyGcp } from "./faults/gcp-harness.js";
import { throttlingStorm } from "./faults/storms.js";

const f = await startFaultyGcp();
afterAll(() => f.close());

describe("a 20 s throttling storm on Cloud Tasks and Cloud Storage (gcp offline backend)", { timeout: 180_000 }, () => {
  it("maps (invokes and Cloud Tasks) and spawns during the storm: 0 lost, every result right", () =>
    throttlingStorm(f, { ms: 20_000, inputs: 30, withinMs: 120_000 }));
});
