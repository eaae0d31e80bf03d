// Loads on a local deployment: pruning under a short retention (the database stays bounded),
// and 100 000 spawned inputs, every result retrievable.
import Database from "better-sqlite3";
import { statSync } from "node:fs";
import { deployed } from "./server-kill.mjs";
import { sleep, verdict } from "./lib.mjs";

/** Runs `task(i)` for i in [0, n) with `concurrency` at a time. */
export async function pooled(n, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Row counts and bytes of a deployment's database, read beside the running server. */
export function dbSizes(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const count = (t) => db.prepare(`SELECT count(*) AS n FROM ${t}`).get().n;
    const bytes = (f) => {
      try {
        return statSync(f).size;
      } catch {
        return 0;
      }
    };
    return {
      calls: count("calls"),
      chunks: count("chunks"),
      graph: count("graph"),
      dbBytes: bytes(file),
      walBytes: bytes(`${file}-wal`),
    };
  } finally {
    db.close();
  }
}

export async function pruning({ name, rounds = 4, perRound = 1500, retentionMs = 2000 }) {
  const d = await deployed({ FAASADE_RESULT_RETENTION_MS: String(retentionMs) });
  const problems = [];
  try {
    const square = d.fn("square");
    const series = [];
    let lost = 0;
    for (let round = 0; round < rounds; round++) {
      await pooled(perRound, 32, async (i) => {
        const x = round * perRound + i;
        const value = await (await square.spawn(x)).get({ timeoutMs: 30_000 }).catch((e) => e);
        if (value !== x * x) lost++;
      });
      series.push({ round, ...dbSizes(d.db) });
    }
    // Past retention (results expire), then as long again (rows go), then a sweep or two.
    await sleep(retentionMs * 2 + 2500);
    const end = dbSizes(d.db);
    series.push({ round: "end", ...end });
    for (const s of series) console.log(`    ${JSON.stringify(s)}`);
    if (lost > 0) problems.push(`${lost} calls did not get their result`);
    if (end.calls !== 0 || end.graph !== 0 || end.chunks !== 0)
      problems.push(`rows left after retention: ${JSON.stringify(end)}`);
    const total = (s) => s.dbBytes + s.walBytes;
    const firstRounds = Math.max(total(series[0]), total(series[1]));
    const later = Math.max(...series.slice(2, rounds).map(total));
    if (later > firstRounds * 1.3) problems.push(`the files grew from ${firstRounds} to ${later} bytes across rounds`);
    return verdict(
      name,
      {
        runs: rounds,
        inputs: rounds * perRound,
        lost,
        maxRowsSeen: Math.max(...series.map((s) => s.calls)),
        bytesFirstRounds: firstRounds,
        bytesLaterRounds: later,
        bytesEnd: total(end),
      },
      problems,
    );
  } finally {
    await d.stop();
    await d.provider.close();
  }
}

export async function hundredThousand({ name, inputs = Number(process.env.FAULTS_SPAWNS ?? 100_000), concurrency = 64 }) {
  const d = await deployed();
  const problems = [];
  try {
    const square = d.fn("square");
    const ids = new Array(inputs);
    const t0 = performance.now();
    await pooled(inputs, concurrency, async (x) => {
      ids[x] = (await square.spawn(x)).objectId;
    });
    const spawnS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    let lost = 0;
    let wrong = 0;
    await pooled(inputs, concurrency, async (x) => {
      try {
        if ((await d.call(ids[x]).get({ timeoutMs: 600_000 })) !== x * x) wrong++;
      } catch (err) {
        if (++lost <= 3) problems.push(`call ${ids[x]}: ${err?.name}: ${err?.message}`);
      }
    });
    const getS = (performance.now() - t1) / 1000;
    if (lost > 0) problems.push(`${lost} spawned calls have no result`);
    if (wrong > 0) problems.push(`${wrong} results wrong`);
    const sizes = dbSizes(d.db);
    // A restart with this database: the open-time check (quick_check) and the reload of call-graph records.
    await d.stop();
    const restart = await d.startServer();
    const spot = await d
      .call(ids[inputs - 1])
      .get({ timeoutMs: 30_000 })
      .catch((e) => e);
    if (spot !== (inputs - 1) ** 2) problems.push(`after a restart, the last call reads ${spot?.message ?? spot}`);
    return verdict(
      name,
      {
        runs: 1,
        inputs,
        lost,
        wrong,
        spawnPerS: inputs / spawnS,
        getPerS: inputs / getS,
        totalS: spawnS + getS,
        dbMb: (sizes.dbBytes + sizes.walBytes) / 1e6,
        restartMs: restart.ms,
      },
      problems,
    );
  } finally {
    await d.stop();
    await d.provider.close();
  }
}
