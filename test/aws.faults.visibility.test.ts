// Redelivery while an input still runs: the poller's visibility timeout (2 s) is shorter than
// the input's run time (4 s), so SQS hands the message out again mid-run and the input runs
// side by side with itself. Nothing is lost, and each call still has exactly one result.
import { afterAll, describe, it } from "vitest";
import { startFaulty } from "./faults/aws-harness.js";
import { mapRedeliveredWhileRunning, spawnsRedeliveredWhileRunning } from "./faults/delivery.js";

const RUN_MS = 4000;
const f = await startFaulty({ visibilitySeconds: 2 });
afterAll(() => f.close());

describe("redelivery after a visibility timeout shorter than the run (aws offline backend)", { timeout: 60_000 }, () => {
  it("spawned calls: each has one right result, though it ran more than once", () =>
    spawnsRedeliveredWhileRunning(f, { runMs: RUN_MS, withinMs: 30_000 }));

  it("a map through SQS: every input yields once, with the right value", () => mapRedeliveredWhileRunning(f, { runMs: RUN_MS }));
});
