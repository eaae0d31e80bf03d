/**
 * Opening the state database of local deployments: owner-only, WAL, checked at open. A file
 * SQLite cannot read (garbage, truncated, a failed disk) is never silently replaced: it is moved
 * aside next to itself (`state.db.bad-<time>`, with its -wal and -shm), the server says so on
 * stderr (server.log) and in a notice file, and starts with an empty database.
 */
import { chmodSync, closeSync, existsSync, openSync, renameSync, writeFileSync } from "node:fs";
import type BetterSqlite3 from "better-sqlite3";
import { ExecutionError } from "../../../core/errors.js";

/** SQLite's codes for a file that is not a readable database (as opposed to one we may not open). */
const UNREADABLE = new Set(["SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_CORRUPT_VTAB", "SQLITE_CORRUPT_SEQUENCE"]);

export interface Opened {
  db: BetterSqlite3.Database;
  /** Set when the file found was unreadable: where it was moved and why. */
  movedAside?: { to: string; reason: string };
}

/** better-sqlite3, an optional peer dependency: its absence says how to install it. */
export async function sqliteDriver(): Promise<typeof BetterSqlite3> {
  try {
    return (await import("better-sqlite3")).default;
  } catch (err) {
    throw new ExecutionError(
      "local deployments keep their state in SQLite: install better-sqlite3 12 (npm i better-sqlite3@12)",
      { cause: err },
    );
  }
}

/** Opens `file`, configured and checked; `prepare` makes the schema (run inside the check). */
export async function openStateDb(file: string, prepare: (db: BetterSqlite3.Database) => void): Promise<Opened> {
  const Database = await sqliteDriver();
  const first = tryOpen(Database, file, prepare);
  if (!("reason" in first)) return { db: first.db };
  const to = moveAside(file);
  const message =
    `faasade: the state database ${file} is unreadable (${first.reason}). It was moved aside to ${to} ` +
    "(with its -wal and -shm) and an empty database was started: apps deployed before must be deployed again " +
    "(faasade deploy <file>), and calls stored in it are not served. The bad copy is kept; sqlite3 can try to " +
    `salvage it: sqlite3 ${to} ".recover" | sqlite3 recovered.db`;
  process.stderr.write(`${message}\n`);
  writeFileSync(`${to}.txt`, `${new Date().toISOString()} ${message}\n`, { mode: 0o600 });
  const second = tryOpen(Database, file, prepare);
  if ("reason" in second) throw new ExecutionError(`could not start a new state database at ${file}: ${second.reason}`);
  return { db: second.db, movedAside: { to, reason: first.reason } };
}

function tryOpen(
  Database: typeof BetterSqlite3,
  file: string,
  prepare: (db: BetterSqlite3.Database) => void,
): { db: BetterSqlite3.Database } | { reason: string } {
  // Owner-only; SQLite gives its -wal and -shm files the database file's mode.
  closeSync(openSync(file, "a", 0o600));
  chmodSync(file, 0o600);
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new Database(file);
    const fresh = (db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n === 0;
    // Pages freed by pruning go back to the file system a few at a time (only settable before the first table).
    if (fresh) db.pragma("auto_vacuum = INCREMENTAL");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL"); // durable across a killed process; fsync per commit is for power loss
    db.pragma("journal_size_limit = 8388608"); // the WAL shrinks back to 8 MiB after a checkpoint
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: "SQLITE_CORRUPT" });
    prepare(db);
    return { db };
  } catch (err) {
    db?.close();
    const code = (err as { code?: string }).code ?? "";
    if (UNREADABLE.has(code)) return { reason: `${code}: ${(err as Error).message}` };
    throw new ExecutionError(`could not open the state database ${file}: ${(err as Error).message} (${code || "no code"})`, {
      cause: err,
    });
  }
}

/** Renames the database and its companions to `<file>.bad-<time>`; returns the new name. */
function moveAside(file: string): string {
  const to = `${file}.bad-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  renameSync(file, to);
  for (const suffix of ["-wal", "-shm"]) if (existsSync(file + suffix)) renameSync(file + suffix, to + suffix);
  return to;
}
