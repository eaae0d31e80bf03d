// A stand-in restarting mid-map, for every cloud: its front stops listening for a while, open
// connections cut, then comes back with its state (what a restart of a durable service looks
// like to its clients and to the instances), while a map through the queue and spawned calls are
// in flight (and, where asked, more spawns are sent). Nothing is lost.
import { expect } from "vitest";
import { expectNoneLost, getAll, mapAll, ranSoFar, spawnAll, tags, tallyResults, until } from "./common.js";
import type { FaultHarness } from "./fault-harness.js";

export interface RestartRow {
  /** The stand-in, as the harness names it (`restart:<stand>` is counted). */
  stand: string;
  /** How the rows name it ("fauxqs", "storage"). */
  label: string;
  downMs: number;
  /** How long the map may take to start, and a spawned call's result. */
  underWayMs: number;
  withinMs: number;
  /** Warm the instances first (besides one input through the queue). */
  warm?: boolean;
  /** Every map input's result is of attempt 1. */
  firstAttempts?: boolean;
  /**
   * Spawns sent while the stand-in is down, a row of their own: made once it is back (the
   * queue's stand-in: ridden through, not refused) or while it is down (a stand-in a spawn
   * does not need).
   */
  sentWhileDown?: "once back" | "while down";
}

export async function restartMidMap(h: FaultHarness, o: RestartRow): Promise<void> {
  const queued = await h.queued();
  try {
    expect((await mapAll(queued.work, [`warm-restart-${o.stand}`]))[0]).toEqual({ tag: `warm-restart-${o.stand}`, attempt: 1 });
    if (o.warm) await h.warm();
    const name = `restart-${o.stand}`;
    const mapped = tags(`${name}-map`, 30);
    const spawned = tags(`${name}-spawn`, 20);
    const started = Date.now();
    const calls = await spawnAll(h.work, spawned, 300);
    const running = Promise.all([mapAll(queued.work, mapped, 300), getAll(calls, o.withinMs)]);
    await until("the map under way", () => ranSoFar(h, `${name}-map`) >= 5, o.underWayMs);
    const downAt = Date.now();
    const restarted = h.restart(o.stand, o.downMs).then(() => Date.now());
    const during = tags(`${name}-during`, o.sentWhileDown === undefined ? 0 : 10);
    const sentDuring = spawnAll(h.work, during, 300).then((made) => ({ made, at: Date.now() }));
    const backAt = await restarted;
    const [a, b] = await running;
    const endedAt = Date.now();
    const { made, at } = await sentDuring;
    const c = await getAll(made, o.withinMs);
    const counts = h.takeCounts();
    const runs = h.runs();
    const label = `${o.label} restart (${o.downMs / 1000} s)`;
    const rows = [
      tallyResults(`${label}: map (${h.names.queue})`, mapped, a, runs, started, counts, endedAt),
      tallyResults(`${label}: spawns`, spawned, b, runs, started, counts, endedAt),
    ];
    if (o.sentWhileDown !== undefined)
      rows.push(tallyResults(`${label}: spawns sent while down`, during, c, runs, downAt, counts));
    expect(counts[`restart:${o.stand}`]).toBe(1);
    expectNoneLost(rows, [a, b, c]);
    if (o.sentWhileDown === "once back") expect(at - downAt).toBeGreaterThanOrEqual(o.downMs - 100);
    if (o.sentWhileDown === "while down") expect(at).toBeLessThan(backAt);
    if (o.firstAttempts) expect(a).toEqual(mapped.map((tag) => ({ tag, attempt: 1 })));
  } finally {
    await queued.close();
  }
}

/** The front of the function's invokes (`stand`) down for `downMs` mid-map: each input is sent again, none lost, each ran as attempt 1. */
export async function frontDownMidMap(h: FaultHarness, o: { stand: string; label: string; downMs: number; underWayMs: number }) {
  expect(await h.work.remote(`warm-${o.stand}`)).toEqual({ tag: `warm-${o.stand}`, attempt: 1 });
  const mapped = tags(`restart-${o.stand}-map`, 40);
  const started = Date.now();
  const running = mapAll(h.work, mapped, 300);
  await until("the map under way", () => ranSoFar(h, `restart-${o.stand}-map`) >= 5, o.underWayMs);
  await h.restart(o.stand, o.downMs);
  const a = await running;
  const endedAt = Date.now();
  const counts = h.takeCounts();
  const row = tallyResults(
    `${o.label} restart (${o.downMs / 1000} s): map (invokes)`,
    mapped,
    a,
    h.runs(),
    started,
    counts,
    endedAt,
  );
  expect(counts[`restart:${o.stand}`]).toBe(1);
  expectNoneLost([row], [a]);
  expect(a).toEqual(mapped.map((tag) => ({ tag, attempt: 1 })));
}
