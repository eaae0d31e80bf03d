// The doubles restarting mid-map on the offline gcp backend: the Cloud Storage double's front,
// then the Cloud Tasks double's, stops listening for 4 s, open connections cut, then comes back
// with its state (what a restart of a durable service looks like to its clients and to the
// instances), while a map through Cloud Tasks and spawned calls are in flight, and more spawns
// are sent. Nothing is lost.
import { afterAll, describe, expect, it } from "vitest";
import {
  type FaultyGcp,
  getAll,
  mapAll,
  providerWith,
  ranSoFar,
  spawnAll,
  startFaultyGcp,
  tags,
  tallyResults,
  until,
  warm,
  expectNoneLost,
} from "./faults/gcp-harness.js";

const DOWN_MS = 4000;
const f = await startFaultyGcp();
afterAll(() => f.close());

/** A map through Cloud Tasks and spawned calls under way when `stand`'s front goes down for DOWN_MS. */
async function restartMidMap(stand: keyof FaultyGcp["faults"]) {
  const provider = await providerWith(f, { fanOutFrom: 1 });
  const queued = f.fn("work", provider);
  try {
    expect((await mapAll(queued, [`warm-restart-${stand}`]))[0]).toEqual({ tag: `warm-restart-${stand}`, attempt: 1 });
    await warm(f);
    const name = `restart-${stand}`;
    const mapped = tags(`${name}-map`, 30);
    const spawned = tags(`${name}-spawn`, 20);
    const started = Date.now();
    const calls = await spawnAll(f.work, spawned, 300);
    const running = Promise.all([mapAll(queued, mapped, 300), getAll(calls, 90_000)]);
    await until("the map under way", () => ranSoFar(f, `${name}-map`) >= 5, 60_000);
    // Spawns sent while the front is down: each is made once it is back (ridden through), not refused.
    const downAt = Date.now();
    const restarted = f.faults[stand].restart(DOWN_MS).then(() => Date.now());
    const during = tags(`${name}-during`, 10);
    const sentDuring = spawnAll(f.work, during, 300).then((made) => ({ made, at: Date.now() }));
    const backAt = await restarted;
    const [a, b] = await running;
    const { made, at } = await sentDuring;
    const c = await getAll(made, 90_000);
    const endedAt = Date.now();
    const counts = f.faults[stand].takeCounts();
    const runs = f.runs();
    const rows = [
      tallyResults(`${stand} restart (4 s): map (Cloud Tasks)`, mapped, a, runs, started, counts, endedAt),
      tallyResults(`${stand} restart (4 s): spawns`, spawned, b, runs, started, counts, endedAt),
      tallyResults(`${stand} restart (4 s): spawns sent while down`, during, c, runs, downAt, counts),
    ];
    expect(counts[`restart:${stand}`]).toBe(1);
    expectNoneLost(rows, [a, b, c]);
    // A spawn is a task (no call record in Cloud Storage): made once Cloud Tasks was back, and
    // while Cloud Storage was down.
    if (stand === "tasks") expect(at - downAt).toBeGreaterThanOrEqual(DOWN_MS - 100);
    else expect(at).toBeLessThan(backAt);
    expect(a).toEqual(mapped.map((tag) => ({ tag, attempt: 1 })));
  } finally {
    await provider.close();
  }
}

describe("the doubles restarting mid-map (gcp offline backend, fault proxy)", { timeout: 180_000 }, () => {
  it("the Cloud Storage double down for 4 s mid-map (Cloud Tasks fan-out) and with spawned calls in flight: 0 lost", () =>
    restartMidMap("storage"));

  it("the Cloud Tasks double down for 4 s mid-map and with spawned calls in flight: 0 lost", () => restartMidMap("tasks"));
});
