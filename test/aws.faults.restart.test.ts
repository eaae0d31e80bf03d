// The stand-ins restarting mid-map on the offline AWS backend: fauxqs (SQS and S3) stops
// listening for 4 s, open connections cut, then comes back with its state (what a restart of a
// durable service looks like to its clients); then the Lambda test host's API refuses
// connections for 4 s. Nothing is lost.
import { afterAll, describe, expect, it } from "vitest";
import { expectNoneLost, mapAll, ranSoFar, startFaulty, tags, tallyResults, until } from "./faults/aws-harness.js";
import { restartMidMap } from "./faults/restart.js";

const DOWN_MS = 4000;
const f = await startFaulty();
afterAll(() => f.close());

describe("stand-ins restarting mid-map (aws offline backend, fault proxy)", { timeout: 90_000 }, () => {
  it("fauxqs down for 4 s mid-map (SQS fan-out) and with spawned calls in flight: 0 lost", () =>
    restartMidMap(f, { stand: "storage", label: "fauxqs", downMs: DOWN_MS, underWayMs: 30_000, withinMs: 60_000 }));

  it("the Lambda API refusing connections for 4 s mid-map (invokes): 0 lost", async () => {
    expect(await f.work.remote("warm-lambda")).toEqual({ tag: "warm-lambda", attempt: 1 });
    const mapped = tags("restart-lambda-map", 40);
    const started = Date.now();
    const running = mapAll(f.work, mapped, 300);
    await until("the map under way", () => ranSoFar(f, "restart-lambda-map") >= 5, 30_000);
    await f.faults.lambda.restart(DOWN_MS);
    const a = await running;
    const endedAt = Date.now();
    const counts = f.faults.lambda.takeCounts();
    const row = tallyResults("Lambda API restart (4 s): map (invokes)", mapped, a, f.runs(), started, counts, endedAt);
    expect(counts["restart:lambda"]).toBe(1);
    expectNoneLost([row], [a]);
    expect(a).toEqual(mapped.map((tag) => ({ tag, attempt: 1 })));
  });
});
