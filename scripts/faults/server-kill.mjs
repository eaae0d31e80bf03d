// (c) kill -9 of the local deployment server during a burst of 2 000 spawns and during a map;
// the server is restarted as `faasade deploy` would start it (process.ts: a detached
// `__server`), then every acknowledged spawn must have exactly one result, readable with
// FunctionCall.fromId(...).get(). A caller rides through the restart (API.md): no spawn is
// refused and the map finishes with every result, each input sent again under its own id.
import { Function_, FunctionCall } from "faasade";
import { deployment } from "faasade/local";
import { APP, children, deploymentHome, groupBy, procStat, sleep, startsSince, verdict, wallNow } from "./lib.mjs";

/** A deployed faults-local-app under a home of its own, and handles reaching it. */
export async function deployed(extraEnv = {}) {
  const d = deploymentHome(extraEnv);
  const r = await d.cli("deploy", APP);
  if (r.code !== 0) throw new Error(`deploy failed: ${r.stderr}`);
  const provider = deployment({ home: d.home });
  const fn = (name) => Function_.fromName("faults-local-app", name, { provider });
  const call = (id) => FunctionCall.fromId(id, { provider });
  return { ...d, provider, fn, call };
}

/** kill -9 of the server and its restart; how long the restart took, and containers left behind. */
export async function killAndRestart(d) {
  const old = d.serverInfo();
  const kids = children(old.pid).map((c) => c.pid);
  process.kill(old.pid, "SIGKILL");
  const killedAt = performance.now();
  const killedWall = wallNow();
  while (procStat(old.pid) !== undefined && procStat(old.pid).state !== "Z") await sleep(5);
  await sleep(300); // the server is down for a while: callers meet connection refused
  const started = await d.startServer();
  const restartMs = performance.now() - killedAt;
  await sleep(2000);
  const orphans = kids.filter((pid) => procStat(pid) !== undefined && procStat(pid).state !== "Z");
  return { restartMs, started, orphans, killedWall };
}

/** Checks each acknowledged call: exactly one result, the right one; counts runs from the start log. */
async function checkCalls(d, acked, since, killedWall, problems) {
  let lost = 0;
  let wrong = 0;
  let duplicated = 0;
  let attempts = 0;
  const values = new Map();
  for (const [id, x] of acked) {
    let value;
    try {
      value = await d.call(id).get({ timeoutMs: 60_000 });
    } catch (err) {
      lost++;
      if (lost <= 5) problems.push(`call ${id} (${x}): ${err?.name}: ${err?.message}`);
      continue;
    }
    const again = await d.call(id).get({ timeoutMs: 5000 });
    if (value !== x * x || again !== value) wrong++;
    values.set(id, value);
  }
  // Read once every result is in: a call pending at the kill ran again after the restart.
  const runs = groupBy(startsSince(since), (s) => s.callId);
  for (const id of values.keys()) {
    const n = runs.get(id)?.length ?? 0;
    if (n === 0) problems.push(`call ${id} has a result but never ran`);
    duplicated += Math.max(0, n - 1);
    // At least once is documented for a call without an outcome when the server died: it ran before the kill.
    if (n > 1 && !(runs.get(id)[0].at < killedWall))
      problems.push(`call ${id} ran ${n} times though it first started after the kill`);
    attempts += Math.max(0, ...(runs.get(id) ?? []).map((s) => s.attempt));
  }
  if (lost > 0) problems.push(`${lost} acknowledged spawns have no result`);
  if (wrong > 0) problems.push(`${wrong} spawned calls have a wrong or changing result`);
  return { lost, wrong, duplicated, attempts };
}

export async function killDuringSpawns({ name, spawns = 2000, killAfter = 600, concurrency = 32 }) {
  const d = await deployed();
  const since = wallNow();
  const problems = [];
  try {
    const square = d.fn("square");
    const acked = new Map(); // call id → x
    const refused = [];
    let next = 0;
    let restart;
    const worker = async () => {
      while (next < spawns) {
        const x = next++;
        try {
          const c = await square.spawn(x);
          acked.set(c.objectId, x);
        } catch (err) {
          refused.push(`${x}: ${err?.name}: ${err?.message}`);
        }
        if (acked.size >= killAfter && restart === undefined) restart = killAndRestart(d);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const r = await restart;
    const spawnMs = performance.now() - t0;
    if (r === undefined) problems.push("the server was never killed");
    else {
      if (r.started.pid === undefined)
        problems.push(`the server did not restart: ${JSON.stringify(r.started)}\n${d.log().slice(-2000)}`);
      if (r.orphans.length > 0) problems.push(`containers of the killed server still run: ${r.orphans.join(", ")}`);
    }
    if (refused.length > 0) {
      problems.push(
        `${refused.length} spawns were refused while the server restarted (API.md: a caller rides through a restart); first: ${refused[0]}`,
      );
    }
    const counts = await checkCalls(d, acked, since, r?.killedWall ?? Number.POSITIVE_INFINITY, problems);
    return verdict(
      name,
      {
        runs: 1,
        inputs: spawns,
        acknowledged: acked.size,
        refused: refused.length,
        ...counts,
        restartMs: r?.restartMs ?? -1,
        spawnMs,
      },
      problems,
    );
  } finally {
    await d.stop();
    await d.provider.close();
  }
}

export async function killDuringMap({ name, inputs = 5000 }) {
  const d = await deployed();
  const since = wallNow();
  const problems = [];
  try {
    const squareOnce = d.fn("squareOnce");
    const results = [];
    let restart;
    const t0 = performance.now();
    try {
      for await (const y of squareOnce.map(Array.from({ length: inputs }, (_, i) => i))) {
        results.push(y);
        if (results.length === Math.floor(inputs / 5)) restart = killAndRestart(d);
      }
    } catch (err) {
      problems.push(`the map rejected after ${results.length} results: ${err?.name}: ${err?.message}`);
    }
    const mapMs = performance.now() - t0;
    const r = await restart;
    if (r === undefined) problems.push("the server was never killed");
    else if (r.orphans.length > 0) problems.push(`containers of the killed server still run: ${r.orphans.join(", ")}`);
    let wrong = 0;
    results.forEach((y, i) => {
      if (y !== i * i) wrong++;
    });
    if (wrong > 0) problems.push(`${wrong} results wrong or out of order`);
    const starts = startsSince(since);
    const byInput = groupBy(starts, (s) => s.inputId);
    const duplicated = starts.length - byInput.size;
    return verdict(
      name,
      {
        runs: 1,
        inputs,
        results: results.length,
        lost: inputs - results.length,
        wrong,
        duplicated,
        attempts: Math.max(0, ...starts.map((s) => s.attempt)),
        restartMs: r?.restartMs ?? -1,
        mapMs,
      },
      problems,
    );
  } finally {
    await d.stop();
    await d.provider.close();
  }
}
