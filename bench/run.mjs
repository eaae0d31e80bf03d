// `npm run bench`: local call-overhead benchmark of faasade against worker pools, faast.js
// local mode and raw IPC baselines.
//
// Every configuration runs REPS times, each time in a fresh Node process (bench/worker.mjs),
// repetitions interleaved (rep 1 of every config, then rep 2, ...) so that slow drifts of a
// noisy machine hit all implementations alike. While a run lives, this process samples the
// summed RSS of the run's whole process tree from /proc every 50 ms (bench/proc-watch.mjs). Medians are reported.
//
// Output: a markdown table on stdout, docs/benchmarks.md, raw JSON lines in
// bench/results/latest.jsonl. Exit code: 0 when every run completed with correct results
// (whether or not the targets are met: this is a report), 1 when any run crashed, hung or
// returned a wrong result.
import { execFileSync, spawn } from "node:child_process";
import { Worker } from "node:worker_threads";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { azureRows, azureSection, runAzureBench } from "./azure-rows.mjs";
import { mapAlsoRow, mapNote, mapRow, mapTableLines, remoteRow } from "./map-rows.mjs";
import { FULL_SCAN_MS, SAMPLE_MS, commandOf, scanProc, watchTree } from "./proc-watch.mjs";
import { measureNodeStart, nodeStartLine } from "./node-start.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WORKER = fileURLToPath(new URL("./worker.mjs", import.meta.url));
const RESULTS = fileURLToPath(new URL("./results/latest.jsonl", import.meta.url));
const DOC = fileURLToPath(new URL("../docs/benchmarks.md", import.meta.url));

const REPS = Number(process.env.BENCH_REPS ?? 3);
const POOL = 2;
/** 2 cores × 1000 calls/s per core of a 1 ms function. */
const BURN_IDEAL = 2000;

const IMPLS = [
  { id: "faasade", label: "faasade local (map / remote)" },
  { id: "deployed", label: "faasade local deployment (remote only)" },
  { id: "piscina", label: "piscina 2 threads" },
  { id: "tinypool", label: "tinypool 2 threads" },
  { id: "faast", label: "faast.js local (2 children)" },
  { id: "fork", label: "raw fork IPC (2 children)" },
  { id: "wt", label: "raw worker_threads (2 workers)" },
];
const FNS = ["square", "burn"];
const MODES = ["throughput", "latency"];

/** [N, warm-up calls] per (mode, fn); faast.js is ~10× slower, so it gets smaller N. */
function sizes(impl, mode, fn) {
  const faast = impl === "faast";
  if (mode === "throughput") return fn === "square" ? (faast ? [3000, 300] : [20_000, 2000]) : faast ? [2000, 200] : [4000, 400];
  return fn === "square" ? [3000, 300] : [1000, 100];
}

const configs = [];
for (const fn of FNS) {
  for (const mode of MODES) {
    for (const { id } of IMPLS) {
      // A deployed call is measured where the target is: sequential remote of square.
      if (id === "deployed" && (mode !== "latency" || fn !== "square")) continue;
      const [N, warmup] = sizes(id, mode, fn);
      configs.push({ impl: id, mode, fn, N, warmup, timeoutMs: 120_000 });
    }
  }
}
const GEN = { impl: "faasade", mode: "gen1m", fn: "square", N: 1_000_000, warmup: 2000, timeoutMs: 240_000 };
configs.push(GEN);
/** CPU per sequential remote against a raw fork round trip (bench/remote-cpu.mjs): 16 rounds of 400 calls a side. */
const CPU = { impl: "faasade", mode: "cpu", fn: "square", N: 6400, warmup: 0, timeoutMs: 120_000 };
configs.push(CPU);
// BENCH_ONLY=<regex> runs only matching "impl/fn/mode" configurations (for development).
if (process.env.BENCH_ONLY) {
  const only = new RegExp(process.env.BENCH_ONLY);
  for (let i = configs.length - 1; i >= 0; i--) {
    if (!only.test(`${configs[i].impl}/${configs[i].fn}/${configs[i].mode}`)) configs.splice(i, 1);
  }
}

// ---------------------------------------------------------------------------------------
// Running one configuration

let current; // the live run's child, killed on Ctrl-C

function runOnce(c) {
  return new Promise((resolve) => {
    const args = [WORKER, c.impl, c.mode, c.fn, String(c.N), String(c.warmup)];
    // Own process group, so that a hung run is killed together with its containers.
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
    current = child;
    let out = "";
    let err = "";
    let timedOut = false;
    const watch = watchTree(child.pid);
    const killer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, c.timeoutMs);
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err = (err + d).slice(-4000)));
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      current = undefined;
      const { peakBytes, others } = watch.stop();
      // Whatever the outcome, leave nothing of this run behind.
      killGroup(child);
      const line = out
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .pop();
      const base = { impl: c.impl, mode: c.mode, fn: c.fn, N: c.N };
      if (timedOut)
        return resolve({ ...base, error: `no result within ${c.timeoutMs / 1000} s (killed). stderr: ${err.trim()}` });
      if (code !== 0 || line === undefined) {
        return resolve({
          ...base,
          error: `exit ${signal ?? code}${line ? " after printing a result" : ""}. stderr: ${err.trim()}`,
        });
      }
      resolve({
        ...JSON.parse(line),
        treePeakRssMB: round(peakBytes / 2 ** 20, 1),
        otherCores: others.cores,
        others: others.top,
      });
    });
  });
}

function killGroup(child) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

// ---------------------------------------------------------------------------------------
// CPU availability probe

/**
 * This benchmark usually runs on a small shared VM whose host at times gives it about one
 * core instead of two for tens of seconds. Before each run, two spinning threads here measure
 * the CPU they get during PROBE_MS: 2.0 = two whole cores. Below CPU_OK the run waits (up to
 * WAIT_BUDGET_MS over the whole benchmark) for the cores to come back; runs made anyway are
 * flagged with their probe value.
 */
const PROBE_MS = 250;
const CPU_OK = 1.8;
const WAIT_BUDGET_MS = 90_000;
const SPIN = `const { parentPort } = require("node:worker_threads");
parentPort.on("message", (ms) => { const t = Date.now(); while (Date.now() - t < ms); parentPort.postMessage(0); });`;
const spinners = [0, 1].map(() => new Worker(SPIN, { eval: true }));
let waitedMs = 0;
/** Average cores used by other processes during a run above which the run is made again. */
const CONTENDED = 0.15;
const MAX_RETRIES = 2;
const RETRY_BUDGET = 20;
let retries = 0;
/** Other processes seen using CPU while a run waited for cores. */
const contenders = new Set();

async function probe() {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    spinners.map(
      (w) =>
        new Promise((resolve) => {
          w.once("message", resolve);
          w.postMessage(PROBE_MS);
        }),
    ),
  );
  const c = process.cpuUsage(c0);
  return round(Math.min(2, (c.user + c.system) / 1000 / (performance.now() - t0)), 2);
}

/** Probes until two cores are available or the waiting budget is spent; returns the last probe. */
async function waitForCores() {
  let cores = await probe();
  let warned = false;
  while (cores < CPU_OK && waitedMs < WAIT_BUDGET_MS) {
    if (!warned) console.error(`  only ${cores} cores available: waiting for a second free core...`);
    warned = true;
    const t = performance.now();
    const before = scanProc();
    await new Promise((r) => setTimeout(r, 1000));
    for (const [pid, { ticks }] of scanProc()) {
      // > 20 % of a core during that second, and not this process: someone else's work.
      if (pid !== process.pid && ticks - (before.get(pid)?.ticks ?? ticks) > 20) {
        const command = commandOf(pid);
        if (!command.startsWith("pid ")) contenders.add(command); // gone already: nameless
      }
    }
    cores = await probe();
    waitedMs += performance.now() - t;
  }
  return cores;
}

process.on("SIGINT", () => {
  if (current) killGroup(current);
  process.exit(130);
});

// ---------------------------------------------------------------------------------------
// Statistics and formatting

function median(xs) {
  const s = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(x, d = 0) {
  if (x === undefined) return undefined;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

const fmtInt = (x) => (x === undefined ? "n/a" : Math.round(x).toLocaleString("en-US"));
const fmt = (x, d = 1) => (x === undefined ? "n/a" : x.toFixed(d));

function machine() {
  const cpus = os.cpus();
  let nproc = "n/a";
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {}
  let commit = "n/a";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: ROOT, encoding: "utf8" }).trim();
    if (dirty) commit += " (src/ modified)";
  } catch {}
  const version = (name) => {
    try {
      return JSON.parse(readFileSync(`${ROOT}/node_modules/${name}/package.json`, "utf8")).version;
    } catch {
      return "n/a";
    }
  };
  return {
    cpuModel: cpus[0]?.model ?? "unknown",
    cpuCount: cpus.length,
    cpuMHz: cpus[0]?.speed,
    nproc,
    totalMemGB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    versions: {
      faasade: JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")).version,
      piscina: version("piscina"),
      tinypool: version("tinypool"),
      faastjs: version("faastjs"),
    },
    commit,
    date: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------
// Main

const startedAt = performance.now();
const info = { ...machine(), nodeStart: measureNodeStart() };
mkdirSync(`${HERE}/results`, { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify({ type: "machine", ...info, reps: REPS })}\n`);
const record = (obj) => appendFileSync(RESULTS, `${JSON.stringify(obj)}\n`);

console.error(
  `faasade bench: ${configs.length} configs × ${REPS} reps, each in a fresh process (${info.cpuCount} × ${info.cpuModel}, node ${info.node})`,
);
const runs = new Map(configs.map((c) => [c, []]));
const failures = [];
for (let rep = 1; rep <= REPS; rep++) {
  for (const c of configs) {
    // A configuration that failed once is not run again: its row shows the error.
    if (failures.some((f) => f.config === c)) continue;
    // A run during which other processes took a noticeable share of the CPU is discarded and
    // made again (at most MAX_RETRIES times per run, RETRY_BUDGET times in all).
    let r;
    let cores;
    let t;
    for (let attempt = 0; ; attempt++) {
      cores = await waitForCores();
      t = performance.now();
      r = { ...(await runOnce(c)), cpuProbe: cores };
      if (r.error || r.otherCores <= CONTENDED || attempt >= MAX_RETRIES || retries >= RETRY_BUDGET) break;
      retries++;
      record({ type: "run-discarded", rep, ...r });
      for (const o of r.others) contenders.add(o);
      console.error(
        `  ${c.impl} ${c.fn} ${c.mode}: other processes used ${r.otherCores} cores meanwhile (${r.others.join(", ")}); running it again`,
      );
    }
    record({ type: "run", rep, ...r });
    const tag = `[rep ${rep}/${REPS}] ${c.impl.padEnd(8)} ${c.fn.padEnd(6)} ${c.mode.padEnd(10)}`;
    if (r.error) {
      failures.push({ config: c, error: r.error });
      console.error(`${tag} FAILED: ${r.error}`);
    } else {
      runs.get(c).push({ ...r, rep });
      r.cpuNote = cores < CPU_OK ? ` [only ${cores} cores available]` : "";
      const what =
        c.mode === "latency"
          ? `p50 ${r.p50Us} µs p99 ${r.p99Us} µs`
          : c.mode === "cpu"
            ? `CPU per call ${r.faasadeCpuUs?.toFixed(1)} µs vs raw fork ${r.forkCpuUs?.toFixed(1)} µs (${r.ratio?.toFixed(2)}×, ${r.placement})${r.shared ? `; on one CPU ${r.shared.faasadeCpuUs.toFixed(1)} vs ${r.shared.forkCpuUs.toFixed(1)} µs (${r.shared.ratio.toFixed(2)}×)` : ""}`
            : `${r.callsPerSec} calls/s`;
      console.error(
        `${tag} ${what}${r.firstCallMs === undefined ? "" : `, first call ${r.firstCallMs} ms`}, tree RSS ${r.treePeakRssMB} MB${r.cpuNote}${r.otherCores > CONTENDED ? ` [others used ${r.otherCores} cores]` : ""} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
      );
    }
  }
}

for (const w of spinners) await w.terminate();
const probes = [...runs.values()].flat().map((r) => r.cpuProbe);
const lowCpuRuns = [...runs.values()].flat().filter((r) => r.cpuProbe < CPU_OK);
const contendedRuns = [...runs.values()].flat().filter((r) => r.otherCores > CONTENDED);

const summary = (impl, fn, mode) => {
  const c = configs.find((x) => x.impl === impl && x.fn === fn && x.mode === mode);
  const rs = runs.get(c) ?? [];
  const failed = failures.find((f) => f.config === c);
  const s = { impl, fn, mode, N: c?.N, reps: rs.length, error: failed?.error };
  for (const k of [
    "callsPerSec",
    "wallMs",
    "p50Us",
    "p99Us",
    "meanUs",
    "firstCallMs",
    "treePeakRssMB",
    "parentMaxRssMB",
    "childProcesses",
    "callingThreadCpuUs",
    "callingProcessCpuUs",
  ]) {
    s[k] = median(rs.map((r) => r[k]));
  }
  s.callsPerSecAll = rs.map((r) => r.callsPerSec);
  s.firstCallMsAll = rs.map((r) => r.firstCallMs);
  s.wallMsAll = rs.map((r) => r.wallMs);
  s.treePeakRssMBAll = rs.map((r) => r.treePeakRssMB);
  return s;
};
const S = {};
for (const { id } of IMPLS) for (const fn of FNS) for (const mode of MODES) S[`${id}/${fn}/${mode}`] = summary(id, fn, mode);
const gen = summary("faasade", "square", "gen1m");
for (const s of [...Object.values(S), gen]) record({ type: "summary", ...s });

// Main table: one row per implementation × function.
const tableLines = [
  `| implementation | fn | map/batch calls/s (median) | calls/s, ${REPS} runs | N (batch / seq) | seq p50 µs | seq p99 µs | seq calls/s | first call ms | peak tree RSS MB (batch / seq) |`,
  "|---|---|---:|---|---|---:|---:|---:|---:|---:|",
];
const firstCall = (impl, fn) =>
  median([...S[`${impl}/${fn}/throughput`].firstCallMsAll, ...S[`${impl}/${fn}/latency`].firstCallMsAll]);
for (const fn of FNS) {
  for (const { id, label } of IMPLS) {
    if (!configs.some((c) => c.impl === id && c.fn === fn)) continue;
    const t = S[`${id}/${fn}/throughput`];
    const l = S[`${id}/${fn}/latency`];
    const errors = [t.error, l.error].filter(Boolean);
    const errNote = errors.length
      ? ` **ERROR: ${errors.map((e) => e.split("\n")[0].slice(0, 160).replaceAll("|", "/")).join("; ")}**`
      : "";
    tableLines.push(
      `| ${label}${errNote} | ${fn} | ${fmtInt(t.callsPerSec)} | ${t.callsPerSecAll.map(fmtInt).join(", ")} | ${fmtInt(t.N)} / ${fmtInt(l.N)} | ${fmt(l.p50Us)} | ${fmt(l.p99Us)} | ${fmtInt(l.callsPerSec)} | ${fmt(firstCall(id, fn))} | ${fmt(t.treePeakRssMB)} / ${fmt(l.treePeakRssMB)} |`,
    );
  }
}
const genLines = [
  `| run | inputs | wall s (median) | wall s, ${REPS} runs | calls/s | peak tree RSS MB (median) | peak tree RSS MB, ${REPS} runs | caller process maxRSS MB (median) |`,
  "|---|---:|---:|---|---:|---:|---|---:|",
  `| faasade \`square.map(function* 0..999999)\`${gen.error ? ` **ERROR: ${gen.error.split("\n")[0].slice(0, 160)}**` : ""} | ${fmtInt(gen.N)} | ${fmt(gen.wallMs === undefined ? undefined : gen.wallMs / 1000, 2)} | ${gen.wallMsAll.map((w) => (w / 1000).toFixed(2)).join(", ")} | ${fmtInt(gen.callsPerSec)} | ${fmt(gen.treePeakRssMB)} | ${gen.treePeakRssMBAll.map((x) => fmt(x)).join(", ")} | ${fmt(gen.parentMaxRssMB)} |`,
];

// Ratios against the targets.
const div = (a, b) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const fa = (fn, mode) => S[`faasade/${fn}/${mode}`];
/** Runs of one configuration, by repetition. */
const byRep = (impl, fn, mode) => {
  const c = configs.find((x) => x.impl === impl && x.fn === fn && x.mode === mode);
  return new Map((runs.get(c) ?? []).map((r) => [r.rep, r]));
};
/** A ratio of two configurations' medians, and the same ratio within each repetition (paired runs). */
const pair = (a, b, key) => {
  const [ra, rb] = [byRep(...a), byRep(...b)];
  const perRep = [];
  for (const [rep, x] of ra) {
    const y = rb.get(rep);
    if (y !== undefined) perRep.push(div(x[key], y[key]));
  }
  return { value: div(S[a.join("/")][key], S[b.join("/")][key]), perRep };
};
const FA_SQ_T = ["faasade", "square", "throughput"];
// The aws provider on its offline backend: one run (request counts are exact, not noisy).
let awsRun;
if (!process.env.BENCH_ONLY || new RegExp(process.env.BENCH_ONLY).test("aws")) {
  console.error('aws provider on startTestBackend("aws") (bench/aws.mjs) ...');
  try {
    const line = execFileSync(process.execPath, [fileURLToPath(new URL("./aws.mjs", import.meta.url))], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      timeout: 600_000,
    });
    awsRun = JSON.parse(line.trim().split("\n").pop());
    record({ type: "aws", ...awsRun });
  } catch (err) {
    awsRun = { error: String(err?.message ?? err).split("\n")[0] };
  }
}
const awsRows =
  awsRun === undefined
    ? []
    : [
        {
          name: "aws: SQS requests to spawn 10 000 inputs (client side)",
          value: awsRun.spawnSqsRequests,
          perRep: [],
          unit: "",
          target: "≤ 1 100",
          pass: (v) => v <= 1100,
        },
        {
          name: "aws: S3 requests of one get() on a call that finishes after 30 s",
          value: awsRun.longGetS3Requests,
          perRep: [],
          unit: "",
          target: "≤ 40",
          pass: (v) => v <= 40,
        },
        remoteRow("aws", awsRun, "InvokeCommand", "same test host, same envelope"),
        mapRow("aws", awsRun, "InvokeCommand"),
        mapAlsoRow("aws", awsRun),
        {
          name: "aws: runtime bundle, minified, without user code and the AWS SDK",
          value: awsRun.runtimeBundleBytes === undefined ? undefined : awsRun.runtimeBundleBytes / 1024,
          perRep: [],
          unit: "KB",
          target: "< 150 KB",
          pass: (v) => v < 150,
        },
      ];

// The gcp provider on its offline backend: one run, as for aws.
let gcpRun;
if (!process.env.BENCH_ONLY || new RegExp(process.env.BENCH_ONLY).test("gcp")) {
  console.error('gcp provider on startTestBackend("gcp") (bench/gcp.mjs) ...');
  try {
    const line = execFileSync(process.execPath, [fileURLToPath(new URL("./gcp.mjs", import.meta.url))], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      // 10 000 spawned inputs through functions-framework instances: minutes on a loaded 2-core machine.
      timeout: 1_800_000,
    });
    gcpRun = JSON.parse(line.trim().split("\n").pop());
    record({ type: "gcp", ...gcpRun });
  } catch (err) {
    gcpRun = { error: String(err?.message ?? err).split("\n")[0] };
  }
}
const gcpRows =
  gcpRun === undefined
    ? []
    : [
        {
          name: "gcp: Cloud Tasks + Cloud Storage requests per spawned input (10 000 spawns; client and runtime)",
          value: gcpRun.spawnRequestsPerInput,
          perRep: [],
          unit: "",
          target: "≤ 2",
          pass: (v) => v <= 2,
        },
        {
          name: "gcp: spawned inputs without their result once the queue is empty (lost or failed)",
          value: gcpRun.lostInputs === undefined ? undefined : gcpRun.lostInputs + gcpRun.failedInputs,
          perRep: [],
          unit: "",
          target: "0",
          pass: (v) => v === 0,
        },
        {
          name: "gcp: Cloud Storage requests of one get() on a call that finishes after 30 s",
          value: gcpRun.longGetStorageRequests,
          perRep: [],
          unit: "",
          target: "≤ 40",
          pass: (v) => v <= 40,
        },
        remoteRow("gcp", gcpRun, "authenticated POST", "same functions-framework server, same envelope"),
        mapRow("gcp", gcpRun, "authenticated POST"),
        mapAlsoRow("gcp", gcpRun),
        {
          name: "gcp: runtime bundle, minified, without user code, the Google SDKs and functions-framework",
          value: gcpRun.runtimeBundleBytes === undefined ? undefined : gcpRun.runtimeBundleBytes / 1024,
          perRep: [],
          unit: "KB",
          target: "< 150 KB",
          pass: (v) => v < 150,
        },
      ];

// The azure provider on its offline backend (bench/azure-rows.mjs): one run, as for gcp.
const azureRun = runAzureBench({ root: ROOT, record });

const ratios = [
  {
    name: "faasade map throughput / piscina (square)",
    ...pair(FA_SQ_T, ["piscina", "square", "throughput"], "callsPerSec"),
    unit: "×",
    target: "≥ 15×",
    pass: (v) => v >= 15,
  },
  {
    name: "faasade map throughput / raw worker_threads (square)",
    ...pair(FA_SQ_T, ["wt", "square", "throughput"], "callsPerSec"),
    unit: "×",
    target: "≥ 2×",
    pass: (v) => v >= 2,
  },
  {
    name: `faasade map throughput / ideal (burn; ideal = 2 cores × 1000/s = ${BURN_IDEAL}/s)`,
    value: div(fa("burn", "throughput").callsPerSec, BURN_IDEAL),
    perRep: [...byRep("faasade", "burn", "throughput").values()].map((r) => r.callsPerSec / BURN_IDEAL),
    unit: "%",
    target: "≥ 96%",
    pass: (v) => v >= 0.96,
  },
  (() => {
    const rs = runs.get(CPU) ?? [];
    const cpuUs = (k) => median(rs.map((r) => r[k]));
    const where = rs.every((r) => r.placement === "split")
      ? "this process on one CPU, every child on another"
      : "placed by the kernel: taskset or a second CPU missing";
    return {
      name: `faasade CPU per sequential \`remote\` / raw fork IPC round trip, whole process tree (square; ${fmt(cpuUs("faasadeCpuUs"))} vs ${fmt(cpuUs("forkCpuUs"))} µs, interleaved rounds, ${where})`,
      value: median(rs.map((r) => r.ratio)),
      perRep: rs.map((r) => r.ratio),
      unit: "×",
      target: "≤ 1.4×",
      pass: (v) => v <= 1.4,
    };
  })(),
  {
    name: "faasade first call (square, fresh process, app creation → first result)",
    value: firstCall("faasade", "square"),
    perRep: [...S["faasade/square/throughput"].firstCallMsAll, ...S["faasade/square/latency"].firstCallMsAll],
    unit: "ms",
    target: "≤ 100 ms",
    pass: (v) => v <= 100,
  },
  (() => {
    const [dep, inProc] = [byRep("deployed", "square", "latency"), byRep("faasade", "square", "latency")];
    const perRep = [];
    for (const [rep, x] of dep) {
      const y = inProc.get(rep);
      if (y !== undefined && x.p50Us !== undefined && y.p50Us !== undefined) perRep.push((x.p50Us - y.p50Us) / 1000);
    }
    const d = S["deployed/square/latency"]?.p50Us;
    const f = S["faasade/square/latency"]?.p50Us;
    return {
      name: "faasade deployed `remote` p50 − in-process `remote` p50 (square)",
      value: d === undefined || f === undefined ? undefined : (d - f) / 1000,
      perRep,
      unit: "ms",
      target: "≤ 2 ms",
      pass: (v) => v <= 2,
    };
  })(),
  {
    name: "faasade 1M-input generator map: peak tree RSS",
    value: gen.treePeakRssMB,
    perRep: gen.treePeakRssMBAll,
    unit: "MB",
    target: "< 250 MB",
    pass: (v) => v < 250,
  },
];
const show = (v, unit) =>
  v === undefined
    ? "n/a"
    : unit === "%"
      ? `${(v * 100).toFixed(1)}%`
      : unit === "×"
        ? `${v.toFixed(2)}×`
        : `${v.toFixed(1)}${unit === "" ? "" : ` ${unit}`}`;
const ratioLines = [
  "| ratio | value (from medians) | per repetition / per process | target | result |",
  "|---|---:|---|---|---|",
];
ratios.push(...awsRows, ...gcpRows, ...azureRows(azureRun));
for (const r of ratios) {
  // A row without `pass` is context (no target): its figure is shown, not judged.
  r.result = r.value === undefined ? "FAIL (no data)" : r.pass === undefined ? "" : r.pass(r.value) ? "PASS" : "FAIL";
  const each = r.perRep.map((v) => show(v, r.unit)).join(", ");
  ratioLines.push(`| ${r.name} | ${show(r.value, r.unit)} | ${each} | ${r.target} | ${r.result} |`);
  record({ type: "ratio", name: r.name, value: r.value, perRep: r.perRep, target: r.target, result: r.result });
}
// Context, no target.
const cpuRuns = runs.get(CPU) ?? [];
const sharedRuns = cpuRuns.filter((r) => r.shared !== undefined);
const extra = [
  [
    `faasade CPU per sequential \`remote\` / raw fork IPC round trip, everything on one CPU (square; ${fmt(median(sharedRuns.map((r) => r.shared.faasadeCpuUs)))} vs ${fmt(median(sharedRuns.map((r) => r.shared.forkCpuUs)))} µs; no cross-CPU wake-up: the software's own cost; rounds after the judged ones)`,
    {
      value: sharedRuns.length ? median(sharedRuns.map((r) => r.shared.ratio)) : undefined,
      perRep: sharedRuns.map((r) => r.shared.ratio),
    },
  ],
  [
    "faasade seq `remote` wall p50 / raw fork IPC wall p50 (square; the CPU rows' own rounds)",
    {
      value: div(median(cpuRuns.map((r) => r.faasadeWallP50Us)), median(cpuRuns.map((r) => r.forkWallP50Us))),
      perRep: cpuRuns.map((r) => r.faasadeWallP50Us / r.forkWallP50Us),
    },
  ],
  [
    "faasade seq `remote` p50 / raw fork IPC p50 (square; separate processes)",
    pair(["faasade", "square", "latency"], ["fork", "square", "latency"], "p50Us"),
  ],
  ["faasade map throughput / raw fork IPC (square)", pair(FA_SQ_T, ["fork", "square", "throughput"], "callsPerSec")],
  ["faasade map throughput / faast.js local (square)", pair(FA_SQ_T, ["faast", "square", "throughput"], "callsPerSec")],
  [
    "faasade map throughput / raw fork IPC (burn)",
    pair(["faasade", "burn", "throughput"], ["fork", "burn", "throughput"], "callsPerSec"),
  ],
  [
    "faasade seq `remote` p50 / raw fork IPC p50 (burn)",
    pair(["faasade", "burn", "latency"], ["fork", "burn", "latency"], "p50Us"),
  ],
  [
    "faasade seq `remote` p50 / raw worker_threads p50 (square)",
    pair(["faasade", "square", "latency"], ["wt", "square", "latency"], "p50Us"),
  ],
  callingCpuRow("fork", "callingProcessCpuUs", "calling process's CPU per input, all its threads"),
  callingCpuRow(
    "wt",
    "callingThreadCpuUs",
    "calling thread's CPU per input (main thread: the workers are threads of the same process)",
  ),
];
/** faasade's caller against a raw implementation's, in the burn map: the CPU its workers lose to it. */
function callingCpuRow(raw, key, what) {
  const [a, b] = [S["faasade/burn/throughput"]?.[key], S[`${raw}/burn/throughput`]?.[key]];
  const rawName = raw === "fork" ? "raw fork IPC" : "raw worker_threads";
  return [
    `faasade ${what} / ${rawName} (burn map; ${fmt(a, 1)} vs ${fmt(b, 1)} µs)`,
    pair(["faasade", "burn", "throughput"], [raw, "burn", "throughput"], key),
  ];
}
for (const [name, r] of extra) {
  ratioLines.push(`| ${name} | ${show(r.value, "×")} | ${r.perRep.map((v) => show(v, "×")).join(", ")} | (context) | |`);
}

const totalS = (performance.now() - startedAt) / 1000;
const table = [...tableLines, "", ...genLines].join("\n");
console.log(`\n${table}\n\n${ratioLines.join("\n")}\n`);

const awsSection =
  awsRun === undefined
    ? ""
    : awsRun.error
      ? `## AWS provider (offline backend)\n\n**ERROR:** ${awsRun.error}`
      : `## AWS provider (offline backend)

\`bench/aws.mjs\`, one run against \`startTestBackend("aws")\` (fauxqs in the benchmark's process,
the Lambda test host running the real runtime handlers in child processes, the SQS poller):

| measurement | value |
|---|---:|
| spawn ${fmtInt(awsRun.spawns)} inputs at once: wall time | ${fmtInt(awsRun.spawnMs)} ms |
| ... client SQS requests (SendMessageBatch, SendMessage, GetQueueUrl) | ${fmtInt(awsRun.spawnSqsRequests)} |
| \`get()\` on a call that finishes after 30 s: wall time | ${fmtInt(awsRun.longGetMs)} ms |
| ... client S3 reads of its result and record | ${fmtInt(awsRun.longGetS3Requests)} |
| sequential \`remote\` p50 (median of 5 interleaved rounds of 400) | ${fmtInt(awsRun.remoteP50Us)} µs |
| raw \`InvokeCommand\` of the same envelope to the same host, p50 | ${fmtInt(awsRun.rawInvokeP50Us)} µs |
${mapTableLines(awsRun, "`InvokeCommand`")}
| runtime bundle (esbuild, minified; no user code, no AWS SDK) | ${fmt(awsRun.runtimeBundleBytes / 1024, 1)} KB |

Request counts are exact (counted where fauxqs serves them); the latency pair shares one host
and one function, so it isolates what the aws client adds to an invoke.

- \`remote\` p50 per round (µs): ${(awsRun.remoteP50UsRounds ?? []).map(fmtInt).join(", ")}; raw \`InvokeCommand\`:
  ${(awsRun.rawInvokeP50UsRounds ?? []).map(fmtInt).join(", ")}.
${mapNote(awsRun, "`InvokeCommand`")} The raw client has faasade's 256 sockets (the SDK's default 50 would cap it below 64).`;

const byOperation = (byOp) =>
  Object.entries(byOp ?? {})
    .map(([op, n]) => `\`${op}\` ${fmtInt(n)}`)
    .join(", ");
const gcpSection =
  gcpRun === undefined
    ? ""
    : gcpRun.error
      ? `## Google Cloud provider (offline backend)\n\n**ERROR:** ${gcpRun.error}`
      : `## Google Cloud provider (offline backend)

\`bench/gcp.mjs\`, one run against \`startTestBackend("gcp")\` (the Cloud Storage, Cloud Tasks and
Functions admin doubles in the benchmark's process; each function's instances under the real
functions-framework in processes of their own; Cloud Tasks dispatching each task to them). The
benchmark is a user's program: \`gcp()\` with credentials from the metadata-server double and the
endpoints of \`backend.env\`; its Cloud Storage requests pass a counting proxy, so the client's share
is told apart from the instances'.

| measurement | value |
|---|---:|
| spawn ${fmtInt(gcpRun.spawns)} inputs (1 000 in flight at once): wall time | ${fmtInt(gcpRun.spawnMs)} ms |
| ... until every input's outcome is stored: wall time | ${fmtInt(gcpRun.drainMs)} ms |
| ... Cloud Tasks + Cloud Storage requests, client and runtime | ${fmtInt(gcpRun.spawnRequests)} (${fmt(gcpRun.spawnRequestsPerInput, 2)} per input) |
| ... of which Cloud Tasks | ${fmtInt(gcpRun.spawnTasksRequests)} |
| ... of which Cloud Storage from the client | ${fmtInt(gcpRun.spawnClientStorageRequests)} |
| ... of which Cloud Storage from the instances (runtime) | ${fmtInt(gcpRun.spawnRuntimeStorageRequests)} |
| ... inputs with no result once the queue was empty (lost) / failed | ${fmtInt(gcpRun.lostInputs)} / ${fmtInt(gcpRun.failedInputs)} |
| ... instances of the function seen (process ids; 2 when none died) | ${fmtInt(gcpRun.squareInstances)} |
| \`get()\` on a call that finishes after 30 s: wall time | ${fmtInt(gcpRun.longGetMs)} ms |
| ... client Cloud Storage requests | ${fmtInt(gcpRun.longGetStorageRequests)} |
| ... all Cloud Storage requests meanwhile (the instance's too) | ${fmtInt(gcpRun.longGetWindowStorageRequests)} |
| sequential \`remote\` p50 (median of 5 interleaved rounds of 400) | ${fmtInt(gcpRun.remoteP50Us)} µs |
| raw authenticated POST of the same envelope to the same URL, p50 | ${fmtInt(gcpRun.rawPostP50Us)} µs |
${mapTableLines(gcpRun, "authenticated POST")}
| runtime bundle (esbuild, minified; no user code, no Google SDKs, no functions-framework) | ${fmt(gcpRun.runtimeBundleBytes / 1024, 1)} KB |

- Requests of the spawns, by operation (from the first spawn until the last outcome is stored;
  the benchmark's own ListTasks polls for the end are left out): ${byOperation(gcpRun.spawnByOperation)}.
- The client's Cloud Storage requests of the spawns, by object: ${byOperation(gcpRun.spawnClientStorageByKey)}.
- During the long \`get()\`: the client's ${byOperation(gcpRun.longGetClientByKey)}; everything the
  doubles served meanwhile: ${byOperation(gcpRun.longGetWindowByOperation)}.
- \`remote\` p50 per round (µs): ${(gcpRun.remoteP50UsRounds ?? []).map(fmtInt).join(", ")}; raw POST:
  ${(gcpRun.rawPostP50UsRounds ?? []).map(fmtInt).join(", ")}.
${mapNote(gcpRun, "authenticated POST")}
- Largest inputs of the runtime bundle (bytes in the output): ${(gcpRun.runtimeBundleTop ?? []).map(([path, n]) => `\`${path}\` ${fmtInt(n)}`).join(", ")}.

The machine's 1-minute load average was ${(gcpRun.loadAverage ?? []).join(" at the start, ")} at the end of this
run (2 cores): the doubles, the proxy and the client share one Node thread, and other work on the
machine slows every wall time here; the counts do not depend on it.

Request counts are exact (counted where the doubles serve them). Every spawned input's result is
read back and checked after the count; those reads (${fmtInt(gcpRun.resultCheckStorageRequests)}) are
\`get()\`'s cost, not the spawns'. The raw POST carries an ID token from the metadata-server double,
fetched once; \`remote\` gets its own through Application Default Credentials, as a program does. At
most 1 000 spawns are in flight: the Cloud Storage client opens a socket per request, and 10 000
at once (the doubles' ends in the same process) exceed the machine's 20 000 file descriptors.`;

const doc = `# Benchmarks: local call overhead

Generated by \`npm run bench\` (bench/run.mjs) on ${info.date.slice(0, 10)} — do not edit by hand; re-run
the benchmark instead. Raw data of this run: \`bench/results/latest.jsonl\` (git-ignored).

## Machine

- CPU: ${info.cpuCount} × ${info.cpuModel}${info.cpuMHz ? ` (${info.cpuMHz} MHz reported)` : ""}; \`nproc\` = ${info.nproc}
- Memory: ${info.totalMemGB} GB
- OS: ${info.platform}
- Node ${info.node}; faasade ${info.versions.faasade} (commit ${info.commit}), piscina ${info.versions.piscina}, tinypool ${info.versions.tinypool}, faastjs ${info.versions.faastjs}
- Whole benchmark: ${REPS} repetitions, ${totalS.toFixed(0)} s wall
${nodeStartLine(info.nodeStart)}
- CPU available to the benchmark (see "CPU hygiene" below):
  - probe before the kept runs: median ${fmt(median(probes), 2)}, min ${fmt(Math.min(...probes), 2)} cores; ${lowCpuRuns.length} of ${probes.length} runs started with less than ${CPU_OK} cores${lowCpuRuns.length ? ` (${lowCpuRuns.map((r) => `${r.impl} ${r.fn} ${r.mode} rep ${r.rep}: ${r.cpuProbe}`).join("; ")})` : ""}
  - ${(waitedMs / 1000).toFixed(0)} s spent waiting for a free second core; ${retries} run(s) discarded and made again because other processes used more than ${CONTENDED} cores during them; ${contendedRuns.length} contended run(s) kept (retry limit reached)
  - processes outside the benchmark seen using CPU: ${contenders.size ? [...contenders].map((x) => `\`${x}\``).join(", ") : "none"}

A 2-core machine is small: with two workers busy plus the dispatching main thread there are
three busy threads on two cores, so absolute numbers are contention-bound and vary by ±10–30 %
between runs on a shared VM. Compare the ratios, and the ${REPS} runs shown next to each median.

## Method

- **Functions** (\`bench/funcs.cjs\`, one file loaded by every implementation): \`square(x) = x*x\`
  (pure call overhead) and \`burn(x)\` = busy-spin 1 ms, then \`x*x\`. The spin is bounded by the
  monotonic clock (as in the peer study's method), so a call lasts ~1 ms of wall time even if its
  thread is preempted. Every result of every call, warm-up included, is checked (\`r === x*x\`);
  a wrong result fails the run.
- **Implementations**, pool size ${POOL} everywhere:
  - faasade local provider: \`new App("bench", { provider: local({ maxContainers: 2 }) })\`,
    \`app.function(fn, { maxContainers: 2 })\` in \`bench/faasade-app.mjs\` (the module containers
    import); each container is a forked OS process.
  - faasade local deployment (sequential \`remote\` of \`square\` only): the same app deployed
    (\`faasade deploy bench/faasade-app.mjs\`) to a server that the run starts as its own child,
    called through \`Function.fromName("bench", "square", { provider: deployment({ home }) })\`;
    compared with the in-process \`remote\` of the same run.
  - piscina and tinypool: \`minThreads = maxThreads = 2\`, \`pool.run(x, { name })\`.
  - faast.js local mode: \`faastLocal(funcs, { concurrency: 2, gc: "off", childProcess: true })\`.
  - raw \`child_process.fork\` IPC: 2 children, round-robin, one JSON IPC message per call and one
    back (\`bench/fork-child.cjs\`), any number in flight.
  - raw \`worker_threads\`: 2 workers, round-robin, one \`postMessage\` per call and one back
    (\`bench/wt-worker.cjs\`), every call in flight.
- **Map/batch throughput**: all N calls in flight at once, calls/s = N / wall time. faasade uses
  \`for await (const r of fn.map(inputs))\` (inputs from a generator, results in order); the others
  \`Promise.all\` over N calls. N = 20,000 (square) and 4,000 (burn); faast.js, which manages
  ~1–5 k calls/s, gets 3,000 (square) and 2,000 (burn).
- **Sequential latency**: one \`await\` at a time (faasade: \`await fn.remote(i)\`), N = 3,000 (square)
  and 1,000 (burn); per-call round trip with \`performance.now()\`, p50/p99.
- **Warm-up**: before timing, the same kind of calls (2,000 square / 400 burn in flight, or 300 / 100
  sequential; faast.js 300 / 200 in flight), repeated until warm-up has lasted at least 1 s, so
  that JIT tiering settles and lazily started workers (faasade containers, faast.js children) are all up.
- **First call ms**: in the fresh process, from just before the pool/app is created (libraries
  already imported) to the first result, i.e. including worker/process start-up. For faasade this
  is the import of the app module (\`new App\`, \`app.function\`) plus the first \`remote\`, which
  forks the first container; for faast.js it includes \`faastLocal()\` (its packaging step).
  Median over the ${2 * REPS} fresh processes (batch + seq) of that implementation and function.
  A forked child's share is mostly Node's own start, which the environment can weigh on (see
  Machine: the bare start's figure, and \`NODE_EXTRA_CA_CERTS\`).
- **Peak tree RSS**: \`bench/proc-watch.mjs\` samples \`/proc\` every ${SAMPLE_MS} ms while the run lives and sums
  the resident set (\`statm\`, the same figure as \`VmRSS\`) of the run's process and all its descendants
  (forked children count; worker threads live inside the process); the maximum over the run, median
  over ${REPS} runs. The sample walks only the run's tree (a few reads of \`/proc\`): a scan of every
  process on the machine costs ~1 ms of CPU here, which every ${SAMPLE_MS} ms took ~1 % of two cores from
  the run it watched.
- **CPU per \`remote\`** (faasade only, \`bench/remote-cpu.mjs\`): in one fresh process, 16 rounds of 400
  sequential calls of square on each side, faasade's \`remote\` and a raw fork IPC round trip to a child
  of its own, alternating (the first side alternating too), after 500 warm-up calls each. Each round
  reads the CPU the kernel charged every thread of the process tree (\`/proc/<pid>/task/*/schedstat\`):
  the caller, the containers, the raw child. Both sides run in the same placement, set with \`taskset\`:
  the calling process on one CPU and every child on another (where the kernel puts them on an idle
  machine; left to itself it sometimes put one side's two processes on one CPU, which makes a round
  trip ~3× cheaper in CPU on this VM, and the ratio meant nothing). The ratio of the sides' medians is
  judged. Context: 16 more rounds with everything on one CPU (no cross-CPU wake-up, so the software's
  own cost shows; they run after the judged rounds), and the wall p50 of the judged calls, as a raw
  round trip's wall time swings with the VM's vCPU wake-ups.
- **1M generator** (faasade only): \`square.map(gen())\` where \`gen\` is \`function*\` yielding
  0..999,999; wall time of the whole map and peak tree RSS. The map reads the generator lazily
  with a bounded window of outstanding inputs, so memory must stay flat.
- **CPU hygiene**: the machine may be shared (other sessions' builds and benchmarks run on the
  same 2 vCPUs). Before every run, two threads in \`bench/run.mjs\` spin for ${PROBE_MS} ms and measure
  the CPU they get; below ${CPU_OK} cores the run waits for a free core (at most
  ${WAIT_BUDGET_MS / 1000} s over the whole benchmark). During every run, a scan of every process
  (every ${FULL_SCAN_MS} ms, and at the run's start and end) adds up the CPU time of processes outside
  the run; if they used more than ${CONTENDED} cores on
  average, the run is discarded and made again (at most ${MAX_RETRIES} times per run,
  ${RETRY_BUDGET} in all). Every kept run records both figures in the JSON lines.
- **Repetitions**: each configuration runs ${REPS} times, each in a fresh Node process
  (\`bench/worker.mjs\`), repetitions interleaved (all configs once, then again); the table
  shows medians. \`bench/run.mjs\` exits 0 when every run completed correctly, whether or not the
  targets below are met, and non-zero when an implementation crashed, hung or returned a wrong
  result.

## Results

${table}

## Ratios

${ratioLines.join("\n")}

${awsSection}

${gcpSection}

${azureSection(azureRun)}

Notes:
- N matters for the raw worker_threads baseline: with every call in flight, 200,000 pending
  promises slow it to about half (a run with N = 200,000 measured 252k calls/s for it against
  440k at 20,000), while faasade's map keeps at most 1,000 inputs outstanding and speeds up
  with N (462k against 408k). The verdicts here use N = 20,000, the harder comparison.
- "value" is computed from the medians in the tables above and decides PASS/FAIL. "per
  repetition" is the same ratio within each repetition, from runs made seconds apart (for first
  call: every fresh process; for RSS: every run): it shows how stable the verdict is here.
- The burn ideal assumes both cores run \`burn\` all the time; the dispatching process and the
  /proc sampler compete for the same two cores, and any other work on the machine lowers every
  implementation's burn throughput, raw baselines included (see "CPU available" above). Compare
  with the raw fork / worker_threads burn rows. The two "calling … CPU per input" context rows say
  what the caller takes from the workers during that map: the calling process's CPU (every thread,
  from /proc/self/task/*/schedstat) against the raw fork parent's, and the calling thread's alone
  against raw worker_threads' main thread (its workers are threads of the same process).
- The seq ratios (the CPU one and the wall p50 context rows) compare faasade's full \`remote\` path (argument encoding, attempt bookkeeping,
  batch protocol, result decoding; IPC in JSON mode, bytes as base64) with a bare
  \`process.send\` round trip (JSON serialization) to a forked child: the per-call overhead
  faasade adds on top of a forked process. A single IPC round trip on this VM varied between ~15 and
  ~90 µs p50 from one run to the next for the same code while this benchmark was written, so
  this ratio is the least stable one; read it with its per-repetition values.
${failures.length ? `\n## Failures\n\n${failures.map((f) => `- ${f.config.impl} ${f.config.fn} ${f.config.mode}: ${f.error}`).join("\n")}\n` : ""}`;
mkdirSync(fileURLToPath(new URL("../docs", import.meta.url)), { recursive: true });
writeFileSync(DOC, doc);
console.error(`wrote ${DOC} and ${RESULTS} (${totalS.toFixed(0)} s)`);
if (failures.length > 0) {
  console.error(`${failures.length} configuration(s) failed: exit 1`);
  process.exitCode = 1;
}
