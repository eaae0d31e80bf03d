// Bursts of Cloud Storage server errors (503 UNAVAILABLE and 500 INTERNAL, 1.5 s on, 1.5 s off,
// four times) on the offline gcp backend, during a map through Cloud Tasks, a burst of spawns
// and spawned generators. First only the runtime's writes (results, map results, generator
// values) are refused: the consumer rides through them. Then every Storage request is, the
// clients' reads and writes too.
import type { FunctionCall } from "faasade";
import { afterAll, describe, expect, it } from "vitest";
import {
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

const f = await startFaultyGcp();
afterAll(() => f.close());

/** Four bursts of Storage 5xx on the requests `ops` matches; resolves when the last is over. */
async function bursts(ops: RegExp | undefined): Promise<void> {
  for (let i = 0; i < 4; i++) {
    f.faults.storage.refuse({ services: ["storage"], ms: 1500, kinds: ["unavailable", "internal"], ...(ops ? { ops } : {}) });
    await new Promise((r) => setTimeout(r, 3000));
  }
}

/** A generator's 50 values, read while its call runs: a row of its own. */
async function readGenerator(tag: string): Promise<{ tag: string; attempt: number } | Error> {
  try {
    const call = (await f.count.spawn(tag, 50)) as unknown as FunctionCall<number>;
    const values: number[] = [];
    for await (const v of call.getGen()) values.push(v as number);
    return values.length === 50 && values.every((v, i) => v === i)
      ? { tag, attempt: 1 }
      : new Error(`values ${values.join(",")}`);
  } catch (err) {
    return err as Error;
  }
}

/** A map through Cloud Tasks, spawns and spawned generators while `bursts` run; each asserted and printed. */
async function underBursts(name: string, ops: RegExp | undefined) {
  const provider = await providerWith(f, { fanOutFrom: 1 });
  const queued = f.fn("work", provider);
  try {
    const mapped = tags(`${name}-map`, 30);
    const spawned = tags(`${name}-spawn`, 20);
    const generators = tags(`${name}-gen`, 5);
    await warm(f);
    const started = Date.now();
    const running = Promise.all([
      mapAll(queued, mapped, 300),
      spawnAll(f.work, spawned, 300).then((calls) => getAll(calls, 90_000)),
      Promise.all(generators.map(readGenerator)),
    ]);
    // The bursts begin once the inputs run, so that they meet the runtime's writes.
    await until("the inputs under way", () => ranSoFar(f, name) >= 3, 60_000);
    const storm = bursts(ops);
    const [a, b, c] = await running;
    const endedAt = Date.now();
    await storm;
    const counts = f.faults.storage.takeCounts();
    const runs = f.runs();
    const rows = [
      tallyResults(`Storage 5xx bursts (${name}): map (Cloud Tasks)`, mapped, a, runs, started, counts, endedAt),
      tallyResults(`Storage 5xx bursts (${name}): spawns`, spawned, b, runs, started, counts, endedAt),
      tallyResults(`Storage 5xx bursts (${name}): spawned generators, 50 values`, generators, c, runs, started, counts, endedAt),
    ];
    expect(Object.keys(counts).some((k) => k.startsWith("refused:storage:"))).toBe(true);
    expectNoneLost(rows, [a, b, c]);
    return rows;
  } finally {
    f.faults.storage.clear();
    await provider.close();
  }
}

describe("Cloud Storage 5xx bursts (gcp offline backend, fault proxy)", { timeout: 180_000 }, () => {
  it("on the runtime's writes only (results, map results, generator values): 0 lost", async () => {
    const rows = await underBursts("runtime writes", /^objects\.insert (results|map-results|chunks)$/);
    const refused = Object.keys(rows[0]?.faults ?? {}).filter((k) =>
      /^refused:storage:objects\.insert (results|map-results|chunks)$/.test(k),
    );
    expect(refused).not.toEqual([]);
  });

  it("on every Storage request (the clients' reads and writes too): 0 lost", async () => {
    await underBursts("all requests", undefined);
  });
});
