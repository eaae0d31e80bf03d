/**
 * The background deployment server: `faasade deploy` starts one (detached, logging to
 * FAASADE_HOME/server.log) unless one already runs; `faasade serve` runs one in the foreground.
 */
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ExecutionError } from "../../../core/errors.js";
import { deployment } from "./client.js";
import { type HomePaths, ensureHome, readServerInfo } from "./home.js";
import { startServer } from "./server.js";

/** The server runs as the CLI's hidden `__server` command, detached, so that it outlives the command that started it. */
const MAIN = fileURLToPath(new URL("../../../cli/main.js", import.meta.url));

/** Whether a server answers for `paths` (a recorded pid may be dead, or a zombie nobody reaped). */
export async function serverAnswers(paths: HomePaths): Promise<boolean> {
  if (readServerInfo(paths) === undefined) return false;
  const client = deployment({ home: paths.home });
  const answers = await client.answers();
  await client.close();
  return answers;
}

/** Starts a background server unless one answers; resolves once the new one runs. */
export async function ensureServer(paths: HomePaths): Promise<void> {
  if (await serverAnswers(paths)) return;
  ensureHome(paths);
  const log = openSync(paths.log, "a", 0o600);
  const child = spawn(process.execPath, [...process.execArgv, MAIN, "__server"], {
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, FAASADE_HOME: paths.home },
  });
  child.unref();
  const deadline = performance.now() + 15_000; // a duration: the monotonic clock, immune to clock jumps
  while (performance.now() < deadline) {
    const now = readServerInfo(paths);
    if (now !== undefined && now.pid === child.pid) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new ExecutionError(`the local deployment server did not start; see ${paths.log}`);
}

/** The server process itself: runs until SIGINT/SIGTERM, or (background) until its last app is destroyed. */
export async function runServer(paths: HomePaths, foreground: boolean): Promise<{ port: number; close(): Promise<void> }> {
  const server = await startServer({ paths, exitWhenEmpty: !foreground });
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return server;
}
