// Helpers of the fault-injection scenarios: processes (/proc), the fixture's start log, a
// deployment home with its server, and the counts each scenario prints.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = join(ROOT, "dist/src/cli/main.js");
export const APP = join(ROOT, "test/fixtures/faults-local-app.mjs");
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const wallNow = () => performance.timeOrigin + performance.now();

/** Every process whose parent is `ppid`: [{ pid, cmd, state }]. */
export function children(ppid) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat?.ppid === ppid) out.push({ pid: Number(name), state: stat.state, cmd: cmdline(Number(name)) });
  }
  return out;
}

/** The containers a process runs (forks of runtime.js), of function `fn` if given. */
export const containers = (ppid, fn) =>
  children(ppid).filter((c) => c.cmd.includes("runtime.js") && (fn === undefined || functionOf(c.pid) === fn));

/** The function a container serves (its FAASADE_FUNCTION). */
function functionOf(pid) {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    return env.find((e) => e.startsWith("FAASADE_FUNCTION="))?.slice("FAASADE_FUNCTION=".length);
  } catch {
    return undefined;
  }
}

/** State letter and parent of a process, undefined once it is gone (a zombie is "Z"). */
export function procStat(pid) {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Resident set size in KiB and open descriptors of a process (undefined once gone). */
export function usage(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { rssKb: rss, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

export function fdTargets(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return "?";
      }
    });
  } catch {
    return [];
  }
}

/** The fixture's start log: one record per start of an input. */
export function readStarts(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [at, pid, inputId, callId, attempt] = line.split(" ");
      return { at: Number(at), pid: Number(pid), inputId, callId, attempt: Number(attempt) };
    });
}

export function groupBy(items, key) {
  const out = new Map();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list === undefined) out.set(k, [item]);
    else list.push(item);
  }
  return out;
}

export const tempDir = (prefix) => mkdtempSync(join(tmpdir(), prefix));

/**
 * One start log for the whole run: containers keep the environment they were started with, and
 * warm ones outlive a scenario. Scenarios read the starts made since they began.
 */
const LOG_DIR = tempDir("faasade-faults-");
export const STARTS_LOG = join(LOG_DIR, "starts.log");
process.env.FAULTS_LOG = STARTS_LOG;
export const startsSince = (t) => readStarts(STARTS_LOG).filter((s) => s.at >= t);
process.on("exit", () => rmSync(LOG_DIR, { recursive: true, force: true }));

/** A FAASADE_HOME of its own, with the CLI and the server run against it. */
export function deploymentHome(extraEnv = {}) {
  const home = tempDir("faasade-faults-home-");
  const env = { ...process.env, FAASADE_HOME: home, ...extraEnv };
  const cli = (...args) =>
    new Promise((res) => {
      execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
        res({ code: err ? (err.code ?? 1) : 0, stdout: stdout.trim(), stderr }),
      );
    });
  const serverInfo = () => {
    try {
      return JSON.parse(readFileSync(join(home, "server.json"), "utf8"));
    } catch {
      return undefined;
    }
  };
  const log = () => {
    try {
      return readFileSync(join(home, "server.log"), "utf8");
    } catch {
      return "";
    }
  };
  /**
   * Starts the server as `faasade deploy` does when none answers (process.ts: a detached
   * `__server` logging to server.log), optionally behind a wrapper command (prlimit).
   */
  const startServer = async (wrapper = [], nodeArgs = []) => {
    const before = serverInfo()?.pid;
    const out = openSync(join(home, "server.log"), "a", 0o600);
    const argv = [...wrapper, process.execPath, ...nodeArgs, CLI, "__server"];
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", out, out], env });
    child.unref();
    const t0 = performance.now();
    while (performance.now() - t0 < 20_000) {
      const info = serverInfo();
      if (info !== undefined && info.pid !== before && (await answers())) return { pid: info.pid, ms: performance.now() - t0 };
      if (child.exitCode !== null) return { exited: child.exitCode, ms: performance.now() - t0 };
      await sleep(25);
    }
    return { timedOut: true, ms: performance.now() - t0 };
  };
  /** Whether the recorded server answers its health route (with the token). */
  const answers = async () => {
    const info = serverInfo();
    if (info === undefined) return false;
    try {
      const token = readFileSync(join(home, "token"), "utf8").trim();
      const res = await fetch(`http://127.0.0.1:${info.port}/v1/health`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  };
  const stop = async () => {
    const info = serverInfo();
    if (info === undefined) return;
    try {
      process.kill(info.pid, "SIGTERM");
    } catch {
      return;
    }
    for (let i = 0; i < 100 && procStat(info.pid) !== undefined && procStat(info.pid).state !== "Z"; i++) await sleep(50);
  };
  return { home, env, cli, serverInfo, log, startServer, stop, answers, db: join(home, "state.db") };
}

/** Points this process (and what it starts) at `home`. */
export function useHome(home) {
  process.env.FAASADE_HOME = home;
}

/**
 * The counts line of a scenario, and its verdict: `problems` lists what was lost or wrong; a
 * scenario passes only when it is empty.
 */
export function verdict(name, counts, problems) {
  const fields = Object.entries(counts)
    .map(([k, v]) => `${k}=${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(1) : v}`)
    .join("  ");
  const ok = problems.length === 0;
  console.log(`${ok ? "PASS" : "FAIL"} ${name}: ${fields}`);
  for (const p of problems.slice(0, 20)) console.log(`    - ${p}`);
  if (problems.length > 20) console.log(`    - ... ${problems.length - 20} more`);
  return { name, ok, counts, problems };
}
