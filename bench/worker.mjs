// One benchmark configuration, run in a fresh Node process by bench/run.mjs.
//
//   node bench/worker.mjs <impl> <mode> <fn> <N> <warmup>
//
// impl: faasade | deployed | piscina | tinypool | faast | fork | wt
//       (deployed: faasade through a local deployment server, a child of this process)
// mode: throughput (all N calls in flight; faasade uses fn.map)
//       latency    (one await at a time; faasade uses fn.remote)
//       cpu        (faasade only: CPU per sequential remote for the process tree against a raw fork
//                   round trip, N calls on each side in 16 interleaved rounds: bench/remote-cpu.mjs)
//       gen1m      (faasade only: map over a generator of N inputs)
// fn:   square | burn
//
// Prints one JSON line on stdout. Every result is checked (r === x*x); a wrong result or
// any error exits non-zero.
import { execFileSync, fork } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const require = createRequire(import.meta.url);
const [impl, mode, fnName, nArg, warmArg] = process.argv.slice(2);
const N = Number(nArg);
const WARMUP = Number(warmArg ?? 0);
/** Warm-up also lasts at least this long, so that lazily started workers (faasade, faast) are all up. */
const WARMUP_MIN_MS = 1000;
const POOL = 2;
const FUNCS = fileURLToPath(new URL("./funcs.cjs", import.meta.url));
const now = () => performance.now();

if (!["square", "burn"].includes(fnName) || !Number.isInteger(N) || N < 1) {
  throw new Error(`usage: worker.mjs <impl> <mode> <square|burn> <N> [warmup], got ${process.argv.slice(2).join(" ")}`);
}

function check(x, r) {
  if (r !== x * x) throw new Error(`${impl}/${fnName}: wrong result ${r} for input ${x}`);
}

/** Runs inputs [from, from+n) with every call in flight at once, checking each result. */
async function allInFlight(call, from, n) {
  const ps = new Array(n);
  for (let i = 0; i < n; i++) {
    const x = from + i;
    ps[i] = call(x).then((r) => check(x, r));
  }
  await Promise.all(ps);
}

/** Round-robin over `count` endpoints, one message per call, any number in flight. */
function messagePool(count, make) {
  const pending = new Map();
  let nextId = 0;
  const onReply = (m) => {
    const resolve = pending.get(m[0]);
    pending.delete(m[0]);
    resolve(m[1]);
  };
  const endpoints = Array.from({ length: count }, () => make(onReply));
  return {
    call: (x) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        endpoints[id % count].send([id, x]);
      }),
    close: () => Promise.all(endpoints.map((e) => e.stop())),
  };
}

/**
 * Library imports happen here, before the clock starts: "first call" is measured from
 * just before the pool/app is created. Returns `create()`, which builds the implementation:
 * { call(x), many?(from, n), close() }.
 */
async function load() {
  switch (impl) {
    case "faasade": {
      // faasade itself is imported now; the app module (new App + app.function) inside create().
      await import("faasade");
      await import("faasade/local");
      return async () => {
        const mod = await import("./faasade-app.mjs");
        const fn = mod[fnName];
        return {
          call: (x) => fn.remote(x),
          many: async (from, n) => {
            let x = from;
            for await (const r of fn.map(range(from, n))) check(x++, r);
            if (x !== from + n) throw new Error(`faasade map yielded ${x - from} results for ${n} inputs`);
          },
          gen: async (n) => {
            let x = 0;
            for await (const r of fn.map(range(0, n))) check(x++, r);
            if (x !== n) throw new Error(`faasade map yielded ${x} results for ${n} inputs`);
          },
          close: () => mod.app.close(),
        };
      };
    }
    case "deployed": {
      // A server of its own (a child, so the run's process tree and RSS include it), with the
      // bench app deployed; calls go through its control API as from any other process.
      const cli = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
      const home = mkdtempSync(join(tmpdir(), "faasade-bench-"));
      const env = { ...process.env, FAASADE_HOME: home };
      const server = fork(cli, ["__server"], { env, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      for (let i = 0; i < 300 && !existsSync(join(home, "server.json")); i++) await new Promise((r) => setTimeout(r, 20));
      execFileSync(process.execPath, [cli, "deploy", fileURLToPath(new URL("./faasade-app.mjs", import.meta.url))], { env });
      const { Function_ } = await import("faasade");
      const { deployment } = await import("faasade/local");
      return async () => {
        const provider = deployment({ home });
        const fn = Function_.fromName("bench", fnName, { provider });
        return {
          call: (x) => fn.remote(x),
          close: async () => {
            await provider.close();
            server.kill("SIGTERM");
            await new Promise((r) => server.once("exit", r));
          },
        };
      };
    }
    case "piscina": {
      const { Piscina } = await import("piscina");
      return async () => {
        const pool = new Piscina({ filename: FUNCS, minThreads: POOL, maxThreads: POOL });
        return { call: (x) => pool.run(x, { name: fnName }), close: () => pool.destroy() };
      };
    }
    case "tinypool": {
      const { Tinypool } = await import("tinypool");
      return async () => {
        const pool = new Tinypool({ filename: FUNCS, minThreads: POOL, maxThreads: POOL });
        return { call: (x) => pool.run(x, { name: fnName }), close: () => pool.destroy() };
      };
    }
    case "faast": {
      const { faastLocal } = require("faastjs");
      const funcs = require(FUNCS);
      return async () => {
        const m = await faastLocal(funcs, { concurrency: POOL, gc: "off", childProcess: true, description: "faasade-bench" });
        const f = m.functions[fnName];
        return { call: (x) => f(x), close: () => m.cleanup() };
      };
    }
    case "fork": {
      const child = fileURLToPath(new URL("./fork-child.cjs", import.meta.url));
      return async () =>
        messagePool(POOL, (onReply) => {
          const c = fork(child, [fnName], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
          c.on("message", onReply);
          const exited = new Promise((r) => c.once("exit", r));
          const stop = () => {
            c.kill();
            return exited;
          };
          return { send: (m) => c.send(m), stop };
        });
    }
    case "wt": {
      const file = fileURLToPath(new URL("./wt-worker.cjs", import.meta.url));
      return async () =>
        messagePool(POOL, (onReply) => {
          const w = new Worker(file, { workerData: fnName });
          w.on("message", onReply);
          w.on("error", (e) => fail(e));
          return { send: (m) => w.postMessage(m), stop: () => w.terminate() };
        });
    }
    default:
      throw new Error(`unknown impl ${impl}`);
  }
}

function* range(from, n) {
  for (let i = from; i < from + n; i++) yield i;
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Live child processes of this process (forked containers / children). */
function childCount() {
  let n = 0;
  for (const d of readdirSync("/proc")) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid) n++;
    } catch {}
  }
  return n;
}

/**
 * CPU time, in ns, of this process's main thread (the one that makes the calls and takes the
 * results) and of all its threads (V8's helpers too; a thread pool's workers as well). On two
 * cores kept busy by the workers, every µs the caller uses is taken from them.
 */
function threadCpuNs(tid) {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
  } catch {
    return 0; // the thread ended between the listing and the read
  }
}
const callingThreadCpuNs = () => threadCpuNs(process.pid);
const callingProcessCpuNs = () => readdirSync("/proc/self/task").reduce((sum, tid) => sum + threadCpuNs(tid), 0);

function fail(err) {
  console.error(err?.stack ?? String(err));
  process.exit(1);
}
process.on("unhandledRejection", fail);

/** CPU rounds: 16 of N / 16 calls on each side. */
const CPU_ROUNDS = 16;

async function main() {
  if (mode === "cpu") {
    if (impl !== "faasade" || fnName !== "square") throw new Error("mode cpu is faasade's, of square");
    const { measureRemoteCpu } = await import("./remote-cpu.mjs");
    const figures = await measureRemoteCpu(CPU_ROUNDS, Math.ceil(N / CPU_ROUNDS));
    console.log(JSON.stringify({ impl, mode, fn: fnName, N, ...figures }));
    process.exit(0);
  }
  const create = await load();
  // First call: from just before the pool/app is created to the first result.
  const t0 = now();
  const im = await create();
  const tReady = now();
  const r1 = await im.call(1);
  const firstCallMs = now() - t0;
  check(1, r1);
  const many = im.many ?? ((from, n) => allInFlight(im.call, from, n));

  // Warm-up, not timed: the same kind of calls, on inputs above the measured range.
  const tw = now();
  let warmed = 0;
  do {
    if (mode === "latency") {
      for (let i = 0; i < WARMUP; i++) check(N + i, await im.call(N + i));
    } else if (WARMUP > 0) {
      await many(N, WARMUP);
    }
    warmed += WARMUP;
  } while (WARMUP > 0 && now() - tw < WARMUP_MIN_MS);
  const children = childCount();

  const out = { impl, mode, fn: fnName, N, warmup: warmed, firstCallMs: round(firstCallMs, 1), createMs: round(tReady - t0, 1) };
  if (mode === "latency") {
    const lat = new Float64Array(N);
    const start = now();
    for (let i = 0; i < N; i++) {
      const t = now();
      const r = await im.call(i);
      lat[i] = now() - t;
      check(i, r);
    }
    const wall = now() - start;
    lat.sort();
    Object.assign(out, {
      wallMs: round(wall, 1),
      callsPerSec: Math.round(N / (wall / 1000)),
      p50Us: round(pct(lat, 50) * 1000, 1),
      p99Us: round(pct(lat, 99) * 1000, 1),
      meanUs: round((lat.reduce((a, b) => a + b, 0) / N) * 1000, 1),
    });
  } else if (mode === "throughput") {
    const [thread0, process0] = [callingThreadCpuNs(), callingProcessCpuNs()];
    const start = now();
    await many(0, N);
    const wall = now() - start;
    Object.assign(out, {
      wallMs: round(wall, 1),
      callsPerSec: Math.round(N / (wall / 1000)),
      callingThreadCpuUs: round((callingThreadCpuNs() - thread0) / 1000 / N, 2),
      callingProcessCpuUs: round((callingProcessCpuNs() - process0) / 1000 / N, 2),
    });
  } else if (mode === "gen1m") {
    if (!im.gen) throw new Error(`${impl} has no generator map mode`);
    const start = now();
    await im.gen(N);
    const wall = now() - start;
    Object.assign(out, { wallMs: round(wall, 1), callsPerSec: Math.round(N / (wall / 1000)) });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  out.childProcesses = children;
  await im.close();
  out.parentMaxRssMB = round(process.resourceUsage().maxRSS / 1024, 1);
  console.log(JSON.stringify(out));
  if (impl === "faasade") {
    // faasade must let the process exit by itself once the app is closed: a lingering
    // handle is reported as a failure rather than hidden by process.exit().
    setTimeout(() => {
      console.error("faasade: process still alive 5 s after app.close()");
      process.exit(3);
    }, 5000).unref();
  } else {
    process.exit(0);
  }
}

function round(x, d) {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

main().catch(fail);
