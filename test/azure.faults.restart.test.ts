// The stand-ins restarting mid-map on the offline Azure backend: azurite's Blob front, then its Queue
// front, stops listening for 4 s, open connections cut, then comes back with its state (what a restart
// of a durable service looks like to its clients, the instances and the host's queue trigger), while a
// map through the queue and spawned calls are in flight, and more spawns are sent; then the function
// apps' front, mid-map through invokes. Nothing is lost.
import { afterAll, describe, it } from "vitest";
import { startFaultyAzure } from "./faults/azure-harness.js";
import { frontDownMidMap, restartMidMap } from "./faults/restart.js";

const f = await startFaultyAzure();
afterAll(() => f.close());
const row = { downMs: 4000, underWayMs: 60_000, withinMs: 90_000, warm: true, firstAttempts: true };

describe("the stand-ins restarting mid-map (azure offline backend, fault proxy)", { timeout: 180_000 }, () => {
  // A spawn needs both: its call record in Blob (which keeps the message's receipt, for a cancel made
  // anywhere) and its Put Message. Spawns sent while either is down are made once it is back.
  it("azurite's Blob service down for 4 s mid-map (queue fan-out) and with spawned calls in flight: 0 lost", () =>
    restartMidMap(f, { ...row, stand: "blob", label: "blob", sentWhileDown: "once back" }));

  it("azurite's Queue service down for 4 s mid-map and with spawned calls in flight: 0 lost", () =>
    restartMidMap(f, { ...row, stand: "queue", label: "queue", sentWhileDown: "once back" }));

  it("the function apps' front down for 4 s mid-map (invokes): each input sent again, 0 lost", () =>
    frontDownMidMap(f, { stand: "functions", label: "function apps' front", downMs: 4000, underWayMs: 60_000 }));
});
