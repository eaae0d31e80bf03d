/**
 * Large bytes between the pool and its containers go through files, not the IPC channel: in
 * JSON mode a payload is base64 text copied several times on each side (a 32 MB round trip
 * took 660 ms that way, 220 ms through advanced serialization). The parent makes one private
 * directory (0700) at its first container and removes it when it exits; containers learn it
 * from the environment. A reader takes only files from that directory, and removes each one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

/** Bytes above this size travel as a file. */
export const SPILL_BYTES = 1 << 20;
export const WIRE_DIR_ENV = "FAASADE_WIRE_DIR";

let dir: string | undefined = process.env[WIRE_DIR_ENV] || undefined;
let written = 0;

/** The directory, made on first use in the parent (a container always has it from its environment). */
export function wireDir(): string {
  if (dir === undefined) {
    const made = mkdtempSync(join(tmpdir(), `faasade-wire-${process.pid}-`));
    process.on("exit", () => rmSync(made, { recursive: true, force: true }));
    dir = made;
  }
  return dir;
}

export function spill(bytes: Uint8Array): string {
  const file = join(wireDir(), `${process.pid}-${written++}`);
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
