// Clients riding through transport failures of a function's URL on the offline gcp backend: a
// fault proxy in front of the function host (what Cloud Run's front end answers) refuses calls
// with Cloud Run's 429 and 503 for a while, then stops listening for 4 s (connections refused,
// open ones cut), while `remote` calls, a map through invokes and streamed generator calls run.
// Nothing is lost (../shared/API.md, "Executions in detail").
import { afterAll, describe, expect, it } from "vitest";
import {
  mapAll,
  ranSoFar,
  startFaultyGcp,
  spawnAll,
  getAll,
  tags,
  tallyResults,
  until,
  expectNoneLost,
} from "./faults/gcp-harness.js";

const DOWN_MS = 4000;
const f = await startFaultyGcp();
afterAll(() => f.close());
await f.warm();

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));
/** `remote` calls one after another while `running()` holds, each an error in place of a rejection. */
async function remotesWhile(prefix: string, running: () => boolean) {
  const out: { tags: string[]; results: ({ tag: string; attempt: number } | Error)[] } = { tags: [], results: [] };
  for (let i = 0; running() || i < 3; i++) {
    const tag = `${prefix}-${i}`;
    out.tags.push(tag);
    out.results.push(await f.work.remote(tag, 50).catch(asError));
  }
  return out;
}

/** Streamed generator calls (`remoteGen`): a tag's row holds when all 50 values came in order. */
async function streamed(tag: string): Promise<{ tag: string; attempt: number } | Error> {
  try {
    const values: number[] = [];
    for await (const v of f.count.remoteGen(tag, 50)) values.push(v);
    return values.length === 50 && values.every((v, i) => v === i)
      ? { tag, attempt: 1 }
      : new Error(`values ${values.join(",")}`);
  } catch (err) {
    return asError(err);
  }
}

describe("clients riding through a function URL's failures (gcp offline backend, fault proxy)", { timeout: 180_000 }, () => {
  it("Cloud Run answering 429 and 503 to calls for 10 s: remote, a map through invokes and streamed calls lose nothing", async () => {
    const mapped = tags("refused-map", 30);
    const generators = tags("refused-gen", 5);
    const started = Date.now();
    f.faults.functions.refuse({
      services: ["functions"],
      ops: /^(call|stream)$/,
      ms: 10_000,
      kinds: ["throttle", "unavailable"],
    });
    let storm = true;
    setTimeout(() => (storm = false), 10_000);
    const [a, b, c] = await Promise.all([
      mapAll(f.work, mapped, 100),
      remotesWhile("refused-remote", () => storm),
      Promise.all(generators.map(streamed)),
    ]);
    const endedAt = Date.now();
    const counts = f.faults.functions.takeCounts();
    const runs = f.runs();
    const rows = [
      tallyResults("Cloud Run 429/503 (10 s): map (invokes)", mapped, a, runs, started, counts, endedAt),
      tallyResults("Cloud Run 429/503 (10 s): remote", b.tags, b.results, runs, started, counts, endedAt),
      tallyResults("Cloud Run 429/503 (10 s): streamed generators", generators, c, runs, started, counts, endedAt),
    ];
    expect(counts["refused:functions:call"] ?? 0).toBeGreaterThan(0);
    expect(counts["refused:functions:stream"] ?? 0).toBeGreaterThan(0);
    expectNoneLost(rows, [a, b.results, c]);
    // Refused before they reached the function: each ran once.
    expect(a).toEqual(mapped.map((tag) => ({ tag, attempt: 1 })));
    for (const tag of mapped) expect(runs.get(tag)).toEqual([1]);
  });

  it("the function URLs refusing connections for 4 s, none in flight: remote calls and a map sent meanwhile lose nothing", async () => {
    const mapped = tags("down-map", 20);
    const restarted = f.faults.functions.restart(DOWN_MS);
    let down = true;
    void restarted.then(() => (down = false));
    // Once the clients have seen their idle connections closed: new ones are refused (ECONNREFUSED).
    // A request written to a connection the server had just closed is the next row's.
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const [a, b] = await Promise.all([mapAll(f.work, mapped, 100), remotesWhile("down-remote", () => down)]);
    await restarted;
    const endedAt = Date.now();
    const counts = f.faults.functions.takeCounts();
    const runs = f.runs();
    const rows = [
      tallyResults("function URLs down (4 s), idle: map (invokes)", mapped, a, runs, started, counts, endedAt),
      tallyResults("function URLs down (4 s), idle: remote", b.tags, b.results, runs, started, counts, endedAt),
    ];
    expect(counts["restart:functions"]).toBe(1);
    expectNoneLost(rows, [a, b.results]);
    // The first map inputs waited for the URL: made once it was back.
    expect(endedAt - started).toBeGreaterThanOrEqual(DOWN_MS - 400);
  });

  it("the function URLs down for 4 s mid-map (connections cut, in flight and idle): each input is sent again, none lost", async () => {
    const mapped = tags("cut-map", 40);
    const started = Date.now();
    const running = mapAll(f.work, mapped, 1000);
    await until("the map under way", () => ranSoFar(f, "cut-map") >= 5, 60_000);
    // Calls sent at once after the cut: written to idle connections the front has just closed.
    const restarted = f.faults.functions.restart(DOWN_MS);
    const after = remotesWhile("cut-remote", () => false);
    await restarted;
    const [a, b] = await Promise.all([running, after]);
    const counts = f.faults.functions.takeCounts();
    const rows = [
      tallyResults("function URLs down (4 s) mid-map: map (invokes)", mapped, a, f.runs(), started, counts),
      tallyResults("function URLs down (4 s) mid-map: remote sent at the cut", b.tags, b.results, f.runs(), started, counts),
    ];
    expectNoneLost(rows, [a, b.results]);
  });

  it("task deliveries refused by Cloud Run (429) for 5 s: spawned calls are delivered again, none lost", async () => {
    const spawned = tags("refused-task", 20);
    const started = Date.now();
    f.faults.functions.refuse({ services: ["functions"], ops: /^task$/, ms: 5000, kinds: ["throttle"] });
    const results = await getAll(await spawnAll(f.work, spawned, 100), 120_000);
    const row = tallyResults("Cloud Run 429 to task deliveries (5 s): spawns", spawned, results, f.runs(), started, {
      ...f.faults.functions.takeCounts(),
    });
    expect(row.faults["refused:functions:task"] ?? 0).toBeGreaterThan(0);
    expectNoneLost([row], [results]);
  });
});
