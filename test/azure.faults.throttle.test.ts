// A throttling storm on the offline Azure backend: for 20 s every Queue and every Blob request (the
// clients', the instances' and the host's queue trigger's: one storage account) answers Azure
// Storage's 503 ServerBusy (over the account's limit, or unable to take requests), while a map through
// invokes, a map through the queue and a burst of spawns run. Nothing is lost, every result is right.
import { afterAll, describe, it } from "vitest";
import { startFaultyAzure } from "./faults/azure-harness.js";
import { throttlingStorm } from "./faults/storms.js";

const f = await startFaultyAzure();
afterAll(() => f.close());

describe("a 20 s throttling storm on Storage Queue and Blob (azure offline backend)", { timeout: 180_000 }, () => {
  it("maps (invokes and the queue) and spawns during the storm: 0 lost, every result right", () =>
    throttlingStorm(f, { ms: 20_000, inputs: 30, withinMs: 120_000 }));
});
