// Duplicate and late delivery, for every cloud: each message delivered again (later, or at
// once), or handed out again while its input still runs. The consumer is idempotent by result
// and retried marker (src/cloud/consumer.ts): a call has one result, with the right attempt.
import { expect } from "vitest";
import { getAll, mapAll, spawnAll, tags, tallyResults } from "./common.js";
import type { FaultHarness } from "./fault-harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * How copies are taken: as redeliveries, which find the result or the retried marker and run
 * nothing again, or (`copiesRunAgain`) as first deliveries of their own (a duplicate of the same
 * delivery count: Cloud Tasks' same retry count, a second Put Message on Azure), which run at once
 * without reads and may run the input again; either way a call has one result, the right one.
 */
export interface CopiesTaken {
  label: string;
  withinMs: number;
  copiesRunAgain?: boolean;
}

/** A spawn delivered three times (copies 6 s later): one result each, of attempt 1. */
export async function deliveredLate(h: FaultHarness, o: CopiesTaken): Promise<void> {
  const expected = tags(o.copiesRunAgain ? "dup-same" : "dup-late", 20);
  const started = Date.now();
  h.duplicates.start({ ms: 10_000, copies: 2, delaySeconds: 6, asRedeliveries: !o.copiesRunAgain });
  const calls = await spawnAll(h.work, expected);
  const results = await getAll(calls, o.withinMs);
  // Every copy is delivered and answered: 3 deliveries per call.
  await h.duplicates.delivered({ originals: expected.length, copies: 2 * expected.length }, started, o.withinMs);
  h.duplicates.stop();
  const t = tallyResults(o.label, expected, results, h.runs(), started, h.duplicates.counts(started));
  expect(h.duplicates.copiesIn(t.faults)).toBeGreaterThan(0);
  expect(t).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: expected.length } });
  if (!o.copiesRunAgain) {
    // The redeliveries found its result: one run each.
    expect(t.runs).toBe(expected.length);
    for (const tag of expected) expect(h.runs().get(tag)).toEqual([1]);
    return;
  }
  // At most one run per delivery, each of attempt 1; the copies' results were not written over the first.
  for (const tag of expected)
    expect(
      h
        .runs()
        .get(tag)
        ?.every((attempt) => attempt === 1),
    ).toBe(true);
  expect(t.runs).toBeLessThanOrEqual(3 * expected.length);
}

/** A retried spawn delivered twice per attempt: the result says attempt 2. */
export async function retriedDeliveredTwice(h: FaultHarness, o: CopiesTaken & { windowMs: number }): Promise<void> {
  const expected = tags("dup-retry", 10);
  const started = Date.now();
  // The runtime's retry is a message of its own, delivered twice as well.
  h.duplicates.start({ ms: o.windowMs, copies: 1, delaySeconds: 6, asRedeliveries: !o.copiesRunAgain });
  const calls = await spawnAll(h.flaky, expected);
  const results = await getAll(calls, o.withinMs);
  await h.duplicates.delivered({ originals: 2 * expected.length, copies: 2 * expected.length }, started, o.withinMs);
  h.duplicates.stop();
  const t = tallyResults(o.label, expected, results, h.runs(), started, h.duplicates.counts(started));
  expect(h.duplicates.copiesIn(t.faults)).toBeGreaterThan(0);
  expect(t).toMatchObject({ lost: 0, duplicated: 0, attempts: { 2: expected.length } });
  if (!o.copiesRunAgain) {
    // Attempt 1 ran once, attempt 2 once.
    expect(t.runs).toBe(2 * expected.length);
    for (const tag of expected) expect(h.runs().get(tag)).toEqual([1, 2]);
    return;
  }
  // Each attempt ran once or twice (its copy may run it again), attempt 1 first; no other attempt.
  for (const tag of expected) {
    const runs = h.runs().get(tag) ?? [];
    const ones = runs.filter((a) => a === 1).length;
    const twos = runs.filter((a) => a === 2).length;
    expect({
      tag,
      first: runs[0],
      ones: ones >= 1 && ones <= 2,
      twos: twos >= 1 && twos <= 2,
      others: runs.length - ones - twos,
    }).toEqual({
      tag,
      first: 1,
      ones: true,
      twos: true,
      others: 0,
    });
  }
}

/**
 * A map through the queue (and spawns, when `spawned` > 0) whose messages arrive twice at once:
 * each input yields once, the right value; each ran once or twice (both copies may run side by
 * side), never more.
 */
export async function deliveredTwiceAtOnce(
  h: FaultHarness,
  o: { label: string; mapped: number; spawned: number; ms: number; windowMs: number; withinMs: number },
): Promise<void> {
  const queued = await h.queued();
  try {
    const mapped = tags("dup-now-map", o.mapped);
    const spawned = tags("dup-now-spawn", o.spawned);
    const started = Date.now();
    h.duplicates.start({ ms: o.windowMs, copies: 1, delaySeconds: 0 });
    const [a, b] = await Promise.all([
      mapAll(queued.work, mapped, o.ms),
      spawned.length === 0 ? [] : spawnAll(h.work, spawned, o.ms).then((calls) => getAll(calls, o.withinMs)),
    ]);
    h.duplicates.stop();
    const counts = h.duplicates.counts(started);
    const rows = [tallyResults(`${o.label} (map)`, mapped, a, h.runs(), started, counts)];
    if (spawned.length > 0) rows.push(tallyResults(`${o.label} (spawns)`, spawned, b, h.runs(), started, counts));
    expect(h.duplicates.copiesIn(counts)).toBeGreaterThan(0);
    expect(a.map((r) => (r instanceof Error ? r.message : r.tag))).toEqual(mapped);
    for (const row of rows) {
      expect(row).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: row.inputs } });
      expect(row.runs).toBeGreaterThanOrEqual(row.inputs);
      expect(row.runs).toBeLessThanOrEqual(2 * row.inputs);
    }
  } finally {
    await queued.close();
  }
}

/**
 * Spawned calls handed out again while they run (the queue's visibility timeout shorter than
 * `runMs`, which the harness was started with): each has one right result and ran once (the
 * copies delivered while the first still ran were handed back: its start mark is recent).
 */
export async function spawnsRedeliveredWhileRunning(h: FaultHarness, o: { runMs: number; withinMs: number }): Promise<void> {
  const expected = tags("vis-spawn", 5);
  const started = Date.now();
  const calls = await spawnAll(h.work, expected, o.runMs);
  const results = await getAll(calls, o.withinMs);
  const endedAt = Date.now();
  // A redelivered run still going when the first finished ends too: let them write.
  await sleep(o.runMs);
  const t = tallyResults("visibility < run time (spawn)", expected, results, h.runs(), started, {}, endedAt);
  expect(t).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: expected.length } });
  expect(t.runs).toBe(expected.length);
  // The result read again is the same one (a later run's write leaves the same outcome).
  for (const [i, call] of calls.entries())
    expect(call instanceof Error ? call : await call.get()).toEqual({ tag: expected[i], attempt: 1 });
}

/** A map through the queue whose messages are handed out again while they run: every input yields once, the right value. */
export async function mapRedeliveredWhileRunning(h: FaultHarness, o: { runMs: number }): Promise<void> {
  const queued = await h.queued();
  try {
    const expected = tags("vis-map", 5);
    const started = Date.now();
    const results = await mapAll(queued.work, expected, o.runMs);
    const endedAt = Date.now();
    await sleep(o.runMs);
    const t = tallyResults("visibility < run time (map)", expected, results, h.runs(), started, {}, endedAt);
    expect(results.map((r) => (r instanceof Error ? r.message : r.tag))).toEqual(expected);
    expect(t).toMatchObject({ lost: 0, duplicated: 0, attempts: { 1: expected.length } });
    expect(t.runs).toBe(expected.length);
  } finally {
    await queued.close();
  }
}
