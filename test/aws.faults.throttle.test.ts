// A throttling storm on the offline AWS backend: for 30 s every SQS request and every Lambda
// Invoke of the app's clients answers AWS's throttling or "try again" errors (in turn), while a
// map through invokes, a map through SQS and a burst of spawns run. The clients ride through:
// nothing is lost, every result is right.
import { afterAll, describe, it } from "vitest";
import { startFaulty } from "./faults/aws-harness.js";
import { throttlingStorm } from "./faults/storms.js";

const f = await startFaulty();
afterAll(() => f.close());

describe("a 30 s throttling storm on SQS and Lambda Invoke (aws offline backend)", { timeout: 150_000 }, () => {
  it("maps (invokes and SQS) and spawns during the storm: 0 lost, every result right", () =>
    throttlingStorm(f, { ms: 30_000, inputs: 40, withinMs: 90_000 }));
});
