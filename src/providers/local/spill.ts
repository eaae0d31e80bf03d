/**
 * Large bytes between the pool and its containers go through files, not the IPC channel: in
 * JSON mode a payload is base64 text copied several times on each side (a 128 MB round trip
 * took 5.1 s that way, 0.75 s through a file). The parent names one private directory and
 * passes its path to containers; whichever side spills first makes it (0700, checked to be
 * this user's own), and the parent removes it when it exits. A process that never moves a
 * large payload never touches the disk. A reader takes only files from that directory, and
 * removes each one; the directories of killed parents go when the next parent first spills.
 */
import { randomHex } from "../../core/random.js";
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

/** Bytes above this size travel as a file. */
export const SPILL_BYTES = 1 << 20;
export const WIRE_DIR_ENV = "FAASADE_WIRE_DIR";

let dir: string | undefined = process.env[WIRE_DIR_ENV] || undefined;
/** A container was given its parent's directory; only a parent makes (and sweeps) them. */
const isParent = dir === undefined;
const PREFIX = "faasade-wire-";
let made = false;
let written = 0;

/** The directory's path (a container has it from its environment); nothing is made yet. */
export function wireDir(): string {
  if (dir === undefined) {
    const path = join(tmpdir(), `${PREFIX}${process.pid}-${randomHex(6)}`);
    process.on("exit", () => rmSync(path, { recursive: true, force: true }));
    dir = path;
  }
  return dir;
}

/** The directory, made if neither side has yet; refused unless it is a directory only this user can enter. */
function madeDir(): string {
  const path = wireDir();
  if (made) return path;
  if (isParent) sweepLeftovers();
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const stat = lstatSync(path);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && (stat.uid !== uid || (stat.mode & 0o077) !== 0))) {
    throw new Error(`faasade: ${path} is not a private directory of this user`);
  }
  made = true;
  return path;
}

export function spill(bytes: Uint8Array): string {
  const file = join(madeDir(), `${process.pid}-${written++}`);
  writeFileSync(file, bytes, { mode: 0o600 });
  return basename(file);
}

export function unspill(name: string): Uint8Array {
  const file = join(wireDir(), name);
  if (dirname(file) !== wireDir() || basename(file) !== name) throw new Error(`not a wire file: ${JSON.stringify(name)}`);
  try {
    return readFileSync(file);
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Directories left by parents that were killed (kill -9 skips their exit handler): removed
 * when the next parent first spills. Only this user's, and only those whose process is gone.
 */
function sweepLeftovers(): void {
  const uid = process.getuid?.();
  for (const name of safeList(tmpdir())) {
    const pid = Number(/^faasade-wire-(\d+)-[0-9a-f]+$/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    const path = join(tmpdir(), name);
    try {
      const stat = lstatSync(path);
      if (stat.isDirectory() && (uid === undefined || stat.uid === uid)) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
}

function safeList(path: string): string[] {
  try {
    return readdirSync(path).filter((name) => name.startsWith(PREFIX));
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // another user's process: alive
  }
}
