/**
 * The background deployment server's life: `faasade start` (and `deploy`, when none runs) starts
 * one detached, logging to FAASADE_HOME/server.log; `faasade stop` ends it gracefully; `faasade
 * serve` runs one in the foreground.
 */
import { spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { ExecutionError } from "../../../core/errors.js";
import { CLI_MAIN, CONTAINER_CONDITION } from "../runtime-target.js";
import { deployment } from "./client.js";
import { type HomePaths, type ServerInfo, ensureHome, readServerInfo } from "./home.js";
import { startFailure } from "./start-failure.js";

const START_TIMEOUT_MS = 15_000;
/** A graceful stop waits for containers to stop and the database to close: generous, the machine may be loaded. */
const STOP_TIMEOUT_MS = 60_000;

export interface RunningInfo extends ServerInfo {
  /** Apps it serves. */
  apps: number;
}

/** The server recorded for `paths`, if it answers as that very process (a recorded pid may be dead, or reused). */
export async function runningServer(paths: HomePaths): Promise<RunningInfo | undefined> {
  const info = readServerInfo(paths);
  if (info === undefined) return undefined;
  const client = deployment({ home: paths.home });
  const health = await client.health();
  await client.close();
  return health !== undefined && health.pid === info.pid ? { ...info, apps: health.apps } : undefined;
}

/** Whether a server answers for `paths`. */
export async function serverAnswers(paths: HomePaths): Promise<boolean> {
  return (await runningServer(paths)) !== undefined;
}

export interface Ensured extends RunningInfo {
  /** False when one was already running. */
  started: boolean;
}

/**
 * Starts a background server with every stored app unless one answers; resolves once it runs.
 * `starting` is called only when a server is really started. A start that fails says why: the
 * server's own error, from what it wrote to server.log.
 */
export async function ensureServer(paths: HomePaths, starting?: () => void): Promise<Ensured> {
  const running = await runningServer(paths);
  if (running !== undefined) return { ...running, started: false };
  starting?.();
  ensureHome(paths);
  const logFrom = sizeOf(paths.log);
  const log = openSync(paths.log, "a", 0o600);
  // The CLI's hidden `__server` command, detached, so that it outlives the command that started it;
  // not with a container's export condition, which only the bundled runtime's process may have.
  const flags = process.execArgv.filter((flag) => flag !== CONTAINER_CONDITION);
  const child = spawn(process.execPath, [...flags, CLI_MAIN, "__server"], {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, FAASADE_HOME: paths.home },
  });
  closeSync(log); // the child has its own copy
  child.unref();
  const deadline = performance.now() + START_TIMEOUT_MS; // a duration: the monotonic clock, immune to clock jumps
  while (performance.now() < deadline) {
    const now = readServerInfo(paths);
    if (now !== undefined && now.pid === child.pid)
      return { ...((await runningServer(paths)) ?? { ...now, apps: 0 }), started: true };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // Another command may have started one at the same time: this one lost the port, not the race.
  const other = await runningServer(paths);
  if (other !== undefined) return { ...other, started: false };
  const written = readFrom(paths.log, logFrom);
  throw new ExecutionError(
    child.exitCode === null
      ? `the local deployment server (pid ${child.pid}) did not start within ${START_TIMEOUT_MS / 1000} s; see ${paths.log}`
      : startFailure(written, paths.log),
  );
}

export interface Stopped {
  /** False when none was running. */
  stopped: boolean;
  pid?: number;
}

/**
 * Stops the server gracefully (SIGTERM: it stops its containers, hands unfinished inputs back to
 * the database, closes it) and resolves once its process is gone.
 */
export async function stopServer(paths: HomePaths, timeoutMs = STOP_TIMEOUT_MS): Promise<Stopped> {
  const running = await runningServer(paths);
  if (running === undefined) return { stopped: false };
  const { pid } = running;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return { stopped: true, pid }; // gone in between
  }
  const deadline = performance.now() + timeoutMs;
  while (isAlive(pid)) {
    if (performance.now() > deadline) {
      throw new ExecutionError(
        `the local deployment server (pid ${pid}) did not stop within ${Math.round(timeoutMs / 1000)} s of SIGTERM; ` +
          `kill -9 ${pid} ends it at once (its unfinished inputs run again at the next start)`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { stopped: true, pid };
}

/** Whether `pid` is a live process: a zombie nobody has reaped yet (Linux: state Z) has stopped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // "pid (name) S ...": the state follows the last ")", as the name may hold one.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): kill(0) is the answer
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** What a file holds past `offset`, at most its last 64 KiB (the reason is at the end). */
function readFrom(file: string, offset: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    const from = Math.max(offset, size - 65_536);
    const bytes = Buffer.alloc(Math.max(0, size - from));
    readSync(fd, bytes, 0, bytes.length, from);
    return bytes.toString("utf8");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The server process itself: runs until SIGINT/SIGTERM, or (background) until its last app is destroyed. */
export async function runServer(paths: HomePaths, foreground: boolean): Promise<{ port: number; close(): Promise<void> }> {
  // Imported here: every process that imports the local provider (each container too) reaches this module.
  const { startServer } = await import("./server.js");
  const server = await startServer({ paths, exitWhenEmpty: !foreground });
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return server;
}
