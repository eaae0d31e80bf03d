// The stand-ins restarting mid-map on the offline AWS backend: fauxqs (SQS and S3) stops
// listening for 4 s, open connections cut, then comes back with its state (what a restart of a
// durable service looks like to its clients); then the Lambda test host's API refuses
// connections for 4 s. Nothing is lost.
import { afterAll, describe, it } from "vitest";
import { startFaulty } from "./faults/aws-harness.js";
import { frontDownMidMap, restartMidMap } from "./faults/restart.js";

const DOWN_MS = 4000;
const f = await startFaulty();
afterAll(() => f.close());

describe("stand-ins restarting mid-map (aws offline backend, fault proxy)", { timeout: 90_000 }, () => {
  it("fauxqs down for 4 s mid-map (SQS fan-out) and with spawned calls in flight: 0 lost", () =>
    restartMidMap(f, { stand: "storage", label: "fauxqs", downMs: DOWN_MS, underWayMs: 30_000, withinMs: 60_000 }));

  it("the Lambda API refusing connections for 4 s mid-map (invokes): 0 lost", () =>
    frontDownMidMap(f, { stand: "lambda", label: "Lambda API", downMs: DOWN_MS, underWayMs: 30_000 }));
});
