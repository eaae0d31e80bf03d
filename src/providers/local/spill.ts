/**
 * Large bytes between the pool and its containers go through files, not the IPC channel: in
 * JSON mode a payload is base64 text copied several times on each side (a 128 MB round trip
 * took 5.1 s that way, 0.75 s through a file). The parent names one private directory and
 * passes its path to containers; whichever side spills first makes it (0700, checked to be
 * this user's own), and the parent removes it when it exits. A process that never moves a
 * large payload never touches the disk. A reader takes only files from that directory, and
 * removes each one.
 */
import { randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

/** Bytes above this size travel as a file. */
export const SPILL_BYTES = 1 << 20;
export const WIRE_DIR_ENV = "FAASADE_WIRE_DIR";

let dir: string | undefined = process.env[WIRE_DIR_ENV] || undefined;
let made = false;
let written = 0;

/** The directory's path (a container has it from its environment); nothing is made yet. */
export function wireDir(): string {
  if (dir === undefined) {
    const path = join(tmpdir(), `faasade-wire-${process.pid}-${randomBytes(6).toString("hex")}`);
    process.on("exit", () => rmSync(path, { recursive: true, force: true }));
    dir = path;
  }
  return dir;
}

/** The directory, made if neither side has yet; refused unless it is a directory only this user can enter. */
function madeDir(): string {
  const path = wireDir();
  if (made) return path;
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
