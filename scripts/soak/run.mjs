// `npm run soak`: mixed remote / spawn / map load on a local deployment for SOAK_MS (default
// 10 minutes), sampling every SOAK_SAMPLE_MS (default 5 s) the RSS of the server and of its
// containers and the server's open file descriptors (/proc/<pid>/fd). After a warm-up (the
// first 20 %), nothing may grow by more than 10 %: the median of the last fifth of samples is
// compared with the median of the fifth after the warm-up. Prints the series; exits 1 on growth
// or on any wrong or lost result.
import { APP, children, deploymentHome, fdTargets, sleep, usage } from "../faults/lib.mjs";
import { Function_, FunctionCall } from "faasade";
import { deployment } from "faasade/local";

const SOAK_MS = Number(process.env.SOAK_MS ?? 600_000);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 5000);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 6);
const MAX_GROWTH = 0.1;
for (const [name, v] of [
  ["SOAK_MS", SOAK_MS],
  ["SOAK_SAMPLE_MS", SAMPLE_MS],
  ["SOAK_WORKERS", WORKERS],
]) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`${name} must be a positive integer, got ${JSON.stringify(process.env[name])}`);
    process.exit(2);
  }
}

const d = deploymentHome();
const deployed = await d.cli("deploy", APP);
if (deployed.code !== 0) {
  console.error(`deploy failed: ${deployed.stderr}`);
  process.exit(1);
}
const provider = deployment({ home: d.home });
const square = Function_.fromName("faults-local-app", "square", { provider });
const counts = { remote: 0, spawn: 0, mapInputs: 0, wrong: 0, failed: 0 };
const failures = [];
const fail = (what, err) => {
  counts.failed++;
  if (failures.length < 5) failures.push(`${what}: ${err?.name}: ${err?.message}`);
};

/** One worker: remote, spawn + get from a fresh handle, and a 200-input map, in turn. */
async function worker(w, until) {
  for (let i = 0; performance.now() < until; i++) {
    const x = w * 1_000_000 + i;
    try {
      if (i % 3 === 0) {
        if ((await square.remote(x)) !== x * x) counts.wrong++;
        counts.remote++;
      } else if (i % 3 === 1) {
        const call = await square.spawn(x);
        if ((await FunctionCall.fromId(call.objectId, { provider }).get({ timeoutMs: 60_000 })) !== x * x) counts.wrong++;
        counts.spawn++;
      } else {
        let k = 0;
        for await (const y of square.map(Array.from({ length: 200 }, (_, j) => x + j))) {
          if (y !== (x + k) * (x + k)) counts.wrong++;
          k++;
        }
        counts.mapInputs += k;
      }
    } catch (err) {
      fail(["remote", "spawn", "map"][i % 3], err);
    }
  }
}

function sample(t) {
  const server = d.serverInfo()?.pid;
  const s = server === undefined ? undefined : usage(server);
  const kids = server === undefined ? [] : children(server).filter((c) => c.cmd.includes("runtime.js"));
  const ks = kids.map((k) => usage(k.pid)).filter(Boolean);
  const containersKb = ks.reduce((n, u) => n + u.rssKb, 0);
  return {
    s: Math.round(t / 1000),
    serverRssMb: (s?.rssKb ?? 0) / 1024,
    serverFds: s?.fds ?? 0,
    containers: ks.length,
    containersRssMb: containersKb / 1024,
    perContainerRssMb: ks.length > 0 ? containersKb / 1024 / ks.length : 0,
    ops: counts.remote + counts.spawn + counts.mapInputs,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] + s[Math.ceil((s.length - 1) / 2)]) / 2;
};

console.log(
  `soak: ${SOAK_MS / 1000} s of remote/spawn/map with ${WORKERS} workers, a sample every ${SAMPLE_MS / 1000} s (FAASADE_HOME=${d.home})`,
);
const t0 = performance.now();
const until = t0 + SOAK_MS;
const series = [];
const sampler = (async () => {
  while (performance.now() < until) {
    series.push(sample(performance.now() - t0));
    const last = series[series.length - 1];
    console.log(
      `  ${String(last.s).padStart(4)} s  server ${last.serverRssMb.toFixed(1)} MB ${last.serverFds} fds  containers ${last.containers} × ${last.perContainerRssMb.toFixed(1)} MB  ops ${last.ops}`,
    );
    await sleep(Math.min(SAMPLE_MS, Math.max(0, until - performance.now())));
  }
})();
await Promise.all([...Array.from({ length: WORKERS }, (_, w) => worker(w + 1, until)), sampler]);
series.push(sample(performance.now() - t0));
const serverPid = d.serverInfo()?.pid;
const fdsAtEnd = serverPid === undefined ? [] : fdTargets(serverPid);

const problems = [];
const n = series.length;
const base = series.slice(Math.floor(n * 0.2), Math.max(Math.floor(n * 0.4), Math.floor(n * 0.2) + 1));
const tail = series.slice(Math.floor(n * 0.8));
const growth = {};
for (const key of ["serverRssMb", "serverFds", "perContainerRssMb"]) {
  const b = median(base.map((s) => s[key]));
  const e = median(tail.map((s) => s[key]));
  growth[key] = b === 0 ? 0 : e / b - 1;
  if (e > b * (1 + MAX_GROWTH))
    problems.push(`${key} grew ${(growth[key] * 100).toFixed(1)} % after the warm-up (${b.toFixed(1)} → ${e.toFixed(1)})`);
}
if (counts.wrong > 0) problems.push(`${counts.wrong} wrong results`);
if (counts.failed > 0) problems.push(`${counts.failed} calls failed; first: ${failures.join(" | ")}`);
if (n < 5) problems.push(`only ${n} samples: make SOAK_MS longer than 5 × SOAK_SAMPLE_MS`);

const seconds = (performance.now() - t0) / 1000;
console.log(
  `\n${problems.length === 0 ? "PASS" : "FAIL"} soak: ${seconds.toFixed(0)} s  remote=${counts.remote} spawn=${counts.spawn} mapInputs=${counts.mapInputs} ` +
    `(${((counts.remote + counts.spawn + counts.mapInputs) / seconds).toFixed(0)}/s)  wrong=${counts.wrong} failed=${counts.failed}  ` +
    `growth after warm-up: server RSS ${(growth.serverRssMb * 100).toFixed(1)} %, server fds ${(growth.serverFds * 100).toFixed(1)} %, per-container RSS ${(growth.perContainerRssMb * 100).toFixed(1)} %`,
);
for (const p of problems) console.log(`    - ${p}`);
if (problems.length > 0) {
  console.log("  series (s, server RSS MB, server fds, containers, container RSS MB):");
  for (const s of series)
    console.log(`    ${s.s} ${s.serverRssMb.toFixed(1)} ${s.serverFds} ${s.containers} ${s.containersRssMb.toFixed(1)}`);
  console.log(`  server fds at the end: ${fdsAtEnd.join(" ")}`);
}
await d.stop();
await provider.close();
process.exit(problems.length === 0 ? 0 : 1);
