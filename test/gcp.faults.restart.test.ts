// The doubles restarting mid-map on the offline gcp backend: the Cloud Storage double's front,
// then the Cloud Tasks double's, stops listening for 4 s, open connections cut, then comes back
// with its state (what a restart of a durable service looks like to its clients and to the
// instances), while a map through Cloud Tasks and spawned calls are in flight, and more spawns
// are sent. Nothing is lost.
import { afterAll, describe, it } from "vitest";
import { startFaultyGcp } from "./faults/gcp-harness.js";
import { restartMidMap } from "./faults/restart.js";

const f = await startFaultyGcp();
afterAll(() => f.close());
const row = { downMs: 4000, underWayMs: 60_000, withinMs: 90_000, warm: true, firstAttempts: true };

describe("the doubles restarting mid-map (gcp offline backend, fault proxy)", { timeout: 180_000 }, () => {
  // A spawn is a task (no call record in Cloud Storage): made while Cloud Storage is down, and
  // once Cloud Tasks is back.
  it("the Cloud Storage double down for 4 s mid-map (Cloud Tasks fan-out) and with spawned calls in flight: 0 lost", () =>
    restartMidMap(f, { ...row, stand: "storage", label: "storage", sentWhileDown: "while down" }));

  it("the Cloud Tasks double down for 4 s mid-map and with spawned calls in flight: 0 lost", () =>
    restartMidMap(f, { ...row, stand: "tasks", label: "tasks", sentWhileDown: "once back" }));
});
