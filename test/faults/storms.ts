// A throttling storm and bursts of the object store's 5xx, for every cloud: maps (through
// invokes and through the queue), spawns and spawned generators run meanwhile; the clients and
// the runtime ride through: nothing is lost, every result is right.
import type { FunctionCall } from "faasade";
import { expect } from "vitest";
import { expectNoneLost, getAll, mapAll, ranSoFar, spawnAll, tags, tallyResults, until } from "./common.js";
import type { FaultHarness } from "./fault-harness.js";

/** Refusals of every pattern in `patterns` are among `counts`. */
function expectRefused(counts: Record<string, number>, patterns: readonly RegExp[]): void {
  for (const pattern of patterns)
    expect({ pattern: String(pattern), hit: Object.keys(counts).some((k) => pattern.test(k)) }).toEqual({
      pattern: String(pattern),
      hit: true,
    });
}

/** A storm of `ms` (`harness.throttle`) while a map through invokes, a map through the queue and spawns (`inputs` each) run. */
export async function throttlingStorm(h: FaultHarness, o: { ms: number; inputs: number; withinMs: number }): Promise<void> {
  const queued = await h.queued();
  try {
    // Warm: the first requests (queue look-ups, cold instances) are not what this measures.
    expect(await h.work.remote("warm")).toEqual({ tag: "warm", attempt: 1 });
    expect((await mapAll(queued.work, ["warm-q"]))[0]).toEqual({ tag: "warm-q", attempt: 1 });
    expect(await (await h.work.spawn("warm-s")).get({ timeoutMs: 60_000 })).toEqual({ tag: "warm-s", attempt: 1 });
    const invoked = tags("storm-invoke-map", o.inputs);
    const viaQueue = tags("storm-queue-map", o.inputs);
    const spawned = tags("storm-spawn", o.inputs);
    const started = Date.now();
    h.throttle(o.ms);
    const [a, b, c] = await Promise.all([
      mapAll(h.work, invoked, 100),
      mapAll(queued.work, viaQueue, 100),
      spawnAll(h.work, spawned, 100).then((calls) => getAll(calls, o.withinMs)),
    ]);
    const endedAt = Date.now();
    const counts = h.takeCounts();
    const runs = h.runs();
    const rows = [
      tallyResults("throttling storm: map (invokes)", invoked, a, runs, started, counts, endedAt),
      tallyResults(`throttling storm: map (${h.names.queue})`, viaQueue, b, runs, started, counts, endedAt),
      tallyResults("throttling storm: spawns", spawned, c, runs, started, counts, endedAt),
    ];
    // The storm was real: requests of each service it covers were refused.
    expectRefused(counts, h.stormRefuses);
    expectNoneLost(rows, [a, b, c]);
    for (const row of rows) expect(row.attempts).toEqual({ 1: row.inputs });
    expect(a).toEqual(invoked.map((tag) => ({ tag, attempt: 1 })));
    expect(b).toEqual(viaQueue.map((tag) => ({ tag, attempt: 1 })));
  } finally {
    h.clear();
    await queued.close();
  }
}

/** A generator's 50 values, read while its call runs: a row of its own. */
async function readGenerator(h: FaultHarness, tag: string): Promise<{ tag: string; attempt: number } | Error> {
  try {
    const call = (await h.count.spawn(tag, 50)) as unknown as FunctionCall<number>;
    const values: number[] = [];
    for await (const v of call.getGen()) values.push(v as number);
    return values.length === 50 && values.every((v, i) => v === i)
      ? { tag, attempt: 1 }
      : new Error(`values ${values.join(",")}`);
  } catch (err) {
    return err as Error;
  }
}

/** Four bursts of the store's 5xx (1.5 s on, 1.5 s off) on the requests `ops` matches; resolves when the last is over. */
async function bursts(h: FaultHarness, ops: RegExp | undefined): Promise<void> {
  for (let i = 0; i < 4; i++) {
    h.storeErrors(1500, ops);
    await new Promise((r) => setTimeout(r, 3000));
  }
}

export interface BurstTimes {
  /** How long the inputs may take to start. */
  underWayMs: number;
  /** How long a spawned call's result may take. */
  withinMs: number;
}

/** A map through the queue, spawns and spawned generators while the bursts run; each asserted and printed. */
async function underBursts(h: FaultHarness, name: string, ops: RegExp | undefined, o: BurstTimes) {
  const queued = await h.queued();
  try {
    const mapped = tags(`${name}-map`, 30);
    const spawned = tags(`${name}-spawn`, 20);
    const generators = tags(`${name}-gen`, 5);
    await h.warm();
    const started = Date.now();
    const running = Promise.all([
      mapAll(queued.work, mapped, 300),
      spawnAll(h.work, spawned, 300).then((calls) => getAll(calls, o.withinMs)),
      Promise.all(generators.map((tag) => readGenerator(h, tag))),
    ]);
    // The bursts begin once the inputs run, so that they meet the runtime's writes.
    await until("the inputs under way", () => ranSoFar(h, name) >= 3, o.underWayMs);
    const storm = bursts(h, ops);
    const [a, b, c] = await running;
    const endedAt = Date.now();
    await storm;
    const counts = h.takeCounts();
    const runs = h.runs();
    const label = `${h.names.store} 5xx bursts (${name})`;
    const rows = [
      tallyResults(`${label}: map (${h.names.queue})`, mapped, a, runs, started, counts, endedAt),
      tallyResults(`${label}: spawns`, spawned, b, runs, started, counts, endedAt),
      tallyResults(`${label}: spawned generators, 50 values`, generators, c, runs, started, counts, endedAt),
    ];
    expect(Object.keys(counts).some((k) => k.startsWith(`refused:${h.store.service}:`))).toBe(true);
    expectNoneLost(rows, [a, b, c]);
    return counts;
  } finally {
    h.clear();
    await queued.close();
  }
}

/** Bursts on the runtime's writes only (results, map results, generator values): the consumer rides through them. */
export async function burstsOnRuntimeWrites(h: FaultHarness, o: BurstTimes): Promise<void> {
  const counts = await underBursts(h, "runtime writes", h.store.runtimeWrites, o);
  const prefix = `refused:${h.store.service}:`;
  const refused = Object.keys(counts).filter((k) => k.startsWith(prefix) && h.store.runtimeWrites.test(k.slice(prefix.length)));
  expect(refused).not.toEqual([]);
}

/** Bursts on every request of the store: the clients' reads and writes too. */
export async function burstsOnEveryRequest(h: FaultHarness, o: BurstTimes): Promise<void> {
  await underBursts(h, "all requests", undefined, o);
}
