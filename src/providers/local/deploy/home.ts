/**
 * Where local deployments keep their state: `FAASADE_HOME` (default `~/.faasade`), owner-only.
 * It holds the SQLite database, the control API's token and the running server's address.
 */
import { randomHex } from "../../../core/random.js";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface ServerInfo {
  pid: number;
  port: number;
}

export interface HomePaths {
  home: string;
  db: string;
  token: string;
  server: string;
  log: string;
}

export function homePaths(home = process.env.FAASADE_HOME || join(homedir(), ".faasade")): HomePaths {
  return {
    home,
    db: join(home, "state.db"),
    token: join(home, "token"),
    server: join(home, "server.json"),
    log: join(home, "server.log"),
  };
}

export function ensureHome(paths: HomePaths): void {
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  chmodSync(paths.home, 0o700);
}

/** The control API's token, made on first use; readable by the owner only. */
export function ensureToken(paths: HomePaths): string {
  const existing = readToken(paths);
  if (existing !== undefined) return existing;
  const token = randomHex(32);
  try {
    writeFileSync(paths.token, token, { mode: 0o600, flag: "wx" });
  } catch {
    return readToken(paths) ?? token; // another process made it first
  }
  return token;
}

/**
 * Replaces the token with a new random one: written to a temporary file (0600) and renamed over
 * the old, so that a reader sees the old token or the new one, never a partial file.
 */
export function rotateToken(paths: HomePaths): void {
  ensureHome(paths);
  const temp = `${paths.token}.${process.pid}.${randomHex(4)}.tmp`;
  try {
    writeFileSync(temp, randomHex(32), { mode: 0o600, flag: "wx" });
    chmodSync(temp, 0o600);
    renameSync(temp, paths.token);
  } finally {
    rmSync(temp, { force: true });
  }
}

export function readToken(paths: HomePaths): string | undefined {
  try {
    return readFileSync(paths.token, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

export function readServerInfo(paths: HomePaths): ServerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(paths.server, "utf8")) as ServerInfo;
    return Number.isInteger(info.pid) && Number.isInteger(info.port) ? info : undefined;
  } catch {
    return undefined;
  }
}

export function writeServerInfo(paths: HomePaths, info: ServerInfo): void {
  writeFileSync(paths.server, JSON.stringify(info), { mode: 0o600 });
}

/** Forgets the running server, unless another one has taken its place. */
export function clearServerInfo(paths: HomePaths, pid: number): void {
  if (readServerInfo(paths)?.pid === pid) rmSync(paths.server, { force: true });
}

/** The port the server used last: web URLs stay the same across restarts. */
export function lastPort(paths: HomePaths): number | undefined {
  try {
    const port = Number(readFileSync(join(paths.home, "port"), "utf8"));
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

export function rememberPort(paths: HomePaths, port: number): void {
  writeFileSync(join(paths.home, "port"), String(port), { mode: 0o600 });
}
