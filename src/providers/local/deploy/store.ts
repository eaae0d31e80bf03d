/**
 * The durable state of local deployments, in SQLite (better-sqlite3, imported lazily): deployed
 * apps, autoscaler settings, spawned calls with their inputs and outcomes, generator chunks and
 * call-graph records. Every write is synchronous and committed before it is acknowledged, so a
 * `kill -9` of the server loses nothing that was acknowledged (WAL journal). A write that fails
 * (a full disk) throws an ExecutionError naming the file and what was being stored.
 * Pruning (`expire`) keeps the file bounded: see docs/deployments.md, "Retention".
 */
import type BetterSqlite3 from "better-sqlite3";
import type { GraphEvent } from "../../../core/call-graph.js";
import { ExecutionError } from "../../../core/errors.js";
import { existsSync } from "node:fs";
import { openStateDb, sqliteDriver } from "./store-open.js";
import type { AutoscalerSettings, Outcome } from "../../../core/provider.js";
import type { AppManifest } from "../../../core/manifest.js";

export interface CallRow {
  call_id: string;
  app: string;
  env: string;
  fn: string;
  is_gen: number;
  input_id: string;
  attempt: number;
  args: Uint8Array;
  parent: string | null;
  created_at: number;
  status: string;
  value: Uint8Array | null;
  error: Uint8Array | null;
  user_error: number | null;
  message: string | null;
  task_id: string | null;
  finished_at: number | null;
  expires_at: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS apps (app TEXT NOT NULL, env TEXT NOT NULL, manifest TEXT NOT NULL, deployed_at INTEGER NOT NULL, PRIMARY KEY (app, env));
CREATE TABLE IF NOT EXISTS settings (app TEXT NOT NULL, env TEXT NOT NULL, fn TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (app, env, fn));
CREATE TABLE IF NOT EXISTS calls (
  call_id TEXT PRIMARY KEY, app TEXT NOT NULL, env TEXT NOT NULL, fn TEXT NOT NULL, is_gen INTEGER NOT NULL,
  input_id TEXT NOT NULL, attempt INTEGER NOT NULL, args BLOB NOT NULL, parent TEXT, created_at INTEGER NOT NULL,
  status TEXT NOT NULL, value BLOB, error BLOB, user_error INTEGER, message TEXT, task_id TEXT,
  finished_at INTEGER, expires_at INTEGER);
CREATE INDEX IF NOT EXISTS calls_pending ON calls (status) WHERE status = 'PENDING';
CREATE TABLE IF NOT EXISTS chunks (call_id TEXT NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (call_id, n));
CREATE TABLE IF NOT EXISTS graph (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL, at INTEGER);
CREATE INDEX IF NOT EXISTS calls_expiry ON calls (expires_at) WHERE expires_at IS NOT NULL;
`;

/** A database made before graph rows had a time: give them one (now), so that pruning can reach them. */
function migrate(db: BetterSqlite3.Database): void {
  const columns = db.pragma("table_info(graph)") as { name: string }[];
  if (!columns.some((c) => c.name === "at")) {
    db.exec("ALTER TABLE graph ADD COLUMN at INTEGER");
    db.prepare("UPDATE graph SET at = ?").run(Date.now());
  }
  db.exec("CREATE INDEX IF NOT EXISTS graph_at ON graph (at)");
  // A call's tree is read back by call and by parent input (graphEventsOf).
  db.exec("CREATE INDEX IF NOT EXISTS graph_call ON graph (json_extract(event, '$.call'))");
  db.exec("CREATE INDEX IF NOT EXISTS graph_parent ON graph (json_extract(event, '$.parent'))");
  // The dashboard's call lists: a function's calls newest first, all or of one status (listCalls).
  db.exec("CREATE INDEX IF NOT EXISTS calls_by_fn ON calls (app, env, fn, created_at, call_id)");
  db.exec("CREATE INDEX IF NOT EXISTS calls_by_fn_status ON calls (app, env, fn, status, created_at, call_id)");
}

/** A call as a list shows it: no arguments or results. */
export type ListedCall = Pick<CallRow, "call_id" | "app" | "env" | "fn" | "status" | "attempt" | "created_at" | "finished_at">;
const LISTED = "call_id, app, env, fn, status, attempt, created_at, finished_at";

export interface ListQuery {
  app: string;
  env: string;
  fn: string;
  status?: string;
  /** Only calls before this one in the order (created_at, call_id), newest first. */
  before?: { createdAt: number; callId: string };
  limit: number;
}

export type StoredApp = AppManifest & { deployedAt: number };

function appRows(db: BetterSqlite3.Database): StoredApp[] {
  const rows = db.prepare("SELECT manifest, deployed_at FROM apps ORDER BY app, env").all() as {
    manifest: string;
    deployed_at: number;
  }[];
  return rows.map((r) => ({ ...(JSON.parse(r.manifest) as AppManifest), deployedAt: r.deployed_at }));
}

/**
 * The apps stored in `file`, read-only, for when no server runs (`faasade ls`): nothing is created
 * or changed, and a home without a database has none.
 */
export async function storedApps(file: string): Promise<StoredApp[]> {
  if (!existsSync(file)) return [];
  const Database = await sqliteDriver();
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const made = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'apps'").get() !== undefined;
    return made ? appRows(db) : [];
  } catch (err) {
    const code = (err as { code?: string }).code ?? "no code";
    throw new ExecutionError(`could not read the stored apps in ${file}: ${(err as Error).message} (${code})`, { cause: err });
  } finally {
    db?.close();
  }
}

export interface Pruned {
  /** Results whose bytes were dropped (the row stays: `get` says expired). */
  expired: number;
  /** Rows of expired calls deleted (`get` says not found). */
  deleted: number;
  /** Call-graph records deleted. */
  graph: number;
}

export class Store {
  private graphFailure: string | undefined;

  private constructor(
    private readonly db: BetterSqlite3.Database,
    readonly file: string,
    /** Set when the file found at open was unreadable and was moved aside (store-open.ts). */
    readonly movedAside: { to: string; reason: string } | undefined,
  ) {}

  static async open(file: string): Promise<Store> {
    const { db, movedAside } = await openStateDb(file, (db) => {
      db.exec(SCHEMA);
      migrate(db);
    });
    return new Store(db, file, movedAside);
  }

  /** Runs a write; a failure (disk full, I/O error) names the file and what was being stored. */
  private write<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      const hint = /FULL|IOERR/.test(code) ? ": is the disk full?" : "";
      throw new ExecutionError(`could not store ${what} in ${this.file}: ${(err as Error).message} (${code})${hint}`, {
        cause: err,
      });
    }
  }

  close(): void {
    this.db.close();
  }

  putApp(manifest: AppManifest): void {
    this.write(`app ${manifest.app}`, () =>
      this.db
        .prepare(
          "INSERT INTO apps (app, env, manifest, deployed_at) VALUES (?, ?, ?, ?) ON CONFLICT (app, env) DO UPDATE SET manifest = excluded.manifest, deployed_at = excluded.deployed_at",
        )
        .run(manifest.app, manifest.environment, JSON.stringify(manifest), Date.now()),
    );
  }

  apps(): StoredApp[] {
    return appRows(this.db);
  }

  /** Forgets an app and everything it left: settings, calls, chunks. */
  deleteApp(app: string, env: string): void {
    this.write(`the removal of app ${app}`, () =>
      this.db.transaction(() => {
        this.db
          .prepare("DELETE FROM chunks WHERE call_id IN (SELECT call_id FROM calls WHERE app = ? AND env = ?)")
          .run(app, env);
        this.db.prepare("DELETE FROM calls WHERE app = ? AND env = ?").run(app, env);
        this.db.prepare("DELETE FROM settings WHERE app = ? AND env = ?").run(app, env);
        this.db.prepare("DELETE FROM apps WHERE app = ? AND env = ?").run(app, env);
      })(),
    );
  }

  putSettings(app: string, env: string, fn: string, settings: AutoscalerSettings): void {
    this.write(`the autoscaler settings of ${fn}`, () =>
      this.db
        .prepare(
          "INSERT INTO settings (app, env, fn, json) VALUES (?, ?, ?, ?) ON CONFLICT (app, env, fn) DO UPDATE SET json = excluded.json",
        )
        .run(app, env, fn, JSON.stringify(settings)),
    );
  }

  settings(app: string, env: string, fn: string): AutoscalerSettings | undefined {
    const row = this.db.prepare("SELECT json FROM settings WHERE app = ? AND env = ? AND fn = ?").get(app, env, fn) as
      | { json: string }
      | undefined;
    return row === undefined ? undefined : (JSON.parse(row.json) as AutoscalerSettings);
  }

  insertCall(row: Pick<CallRow, "call_id" | "app" | "env" | "fn" | "is_gen" | "input_id" | "attempt" | "args" | "parent">): void {
    this.write(`call ${row.call_id}`, () =>
      this.db
        .prepare(
          "INSERT INTO calls (call_id, app, env, fn, is_gen, input_id, attempt, args, parent, created_at, status) VALUES (@call_id, @app, @env, @fn, @is_gen, @input_id, @attempt, @args, @parent, @created_at, 'PENDING')",
        )
        .run({ ...row, created_at: Date.now() }),
    );
  }

  setAttempt(callId: string, attempt: number): void {
    this.write(`the attempt of call ${callId}`, () =>
      this.db.prepare("UPDATE calls SET attempt = ? WHERE call_id = ?").run(attempt, callId),
    );
  }

  finishCall(callId: string, outcome: Outcome, retentionMs: number): void {
    const now = Date.now();
    this.write(`the outcome of call ${callId}`, () =>
      this.db
        .prepare(
          "UPDATE calls SET status = ?, value = ?, error = ?, user_error = ?, message = ?, task_id = ?, finished_at = ?, expires_at = ? WHERE call_id = ? AND status = 'PENDING'",
        )
        .run(
          outcome.status,
          outcome.value ?? null,
          outcome.error ?? null,
          outcome.userError === undefined ? null : outcome.userError ? 1 : 0,
          outcome.message ?? null,
          outcome.taskId ?? null,
          now,
          now + retentionMs,
          callId,
        ),
    );
  }

  call(callId: string): CallRow | undefined {
    return this.db.prepare("SELECT * FROM calls WHERE call_id = ?").get(callId) as CallRow | undefined;
  }

  /** A function's calls, newest first, a page at a time (keyset: the indexes of migrate()). */
  listCalls(q: ListQuery): ListedCall[] {
    const where = ["app = @app", "env = @env", "fn = @fn"];
    const params: Record<string, string | number> = { app: q.app, env: q.env, fn: q.fn, limit: q.limit };
    if (q.status !== undefined) {
      where.push("status = @status");
      params.status = q.status;
    }
    if (q.before !== undefined) {
      where.push("(created_at, call_id) < (@at, @id)");
      params.at = q.before.createdAt;
      params.id = q.before.callId;
    }
    const sql = `SELECT ${LISTED} FROM calls WHERE ${where.join(" AND ")} ORDER BY created_at DESC, call_id DESC LIMIT @limit`;
    return this.db.prepare(sql).all(params) as ListedCall[];
  }

  /** The listed form of the given calls that are still stored. */
  listedCalls(callIds: readonly string[]): ListedCall[] {
    const one = this.db.prepare(`SELECT ${LISTED} FROM calls WHERE call_id = ?`);
    return callIds.map((id) => one.get(id) as ListedCall | undefined).filter((r) => r !== undefined);
  }

  pendingCalls(): CallRow[] {
    return this.db.prepare("SELECT * FROM calls WHERE status = 'PENDING' ORDER BY created_at").all() as CallRow[];
  }

  addChunk(callId: string, n: number, data: Uint8Array): void {
    this.write(`value ${n} of call ${callId}`, () =>
      this.db.prepare("INSERT OR IGNORE INTO chunks (call_id, n, data) VALUES (?, ?, ?)").run(callId, n, data),
    );
  }

  chunks(callId: string, from: number): Uint8Array[] {
    const rows = this.db.prepare("SELECT data FROM chunks WHERE call_id = ? AND n >= ? ORDER BY n").all(callId, from) as {
      data: Uint8Array;
    }[];
    return rows.map((r) => r.data);
  }

  chunkCount(callId: string): number {
    return (this.db.prepare("SELECT count(*) AS n FROM chunks WHERE call_id = ?").get(callId) as { n: number }).n;
  }

  /**
   * Prunes what retention is over for: the bytes of results past it (the row stays, so `get`
   * says expired), then the rows themselves once expired for as long again as they were kept,
   * and the call-graph records older than every call still stored. Freed pages go back to the
   * file system (incremental vacuum). Never throws: a failure is logged and the next sweep
   * tries again.
   */
  expire(now = Date.now()): Pruned {
    try {
      const pruned = this.db.transaction((): Pruned => {
        this.db.prepare("DELETE FROM chunks WHERE call_id IN (SELECT call_id FROM calls WHERE expires_at <= ?)").run(now);
        const expired = this.db
          .prepare(
            "UPDATE calls SET value = NULL, error = NULL, args = x'', status = 'EXPIRED' WHERE expires_at <= ? AND status != 'EXPIRED'",
          )
          .run(now).changes;
        const deleted = this.db
          .prepare("DELETE FROM calls WHERE status = 'EXPIRED' AND expires_at + (expires_at - finished_at) <= ?")
          .run(now).changes;
        // A graph record is made after its root call's row, so one older than every stored call belongs to a pruned call.
        const oldest = this.db.prepare("SELECT min(created_at) AS t FROM calls").get() as { t: number | null };
        const graph = this.db.prepare("DELETE FROM graph WHERE at < ?").run(oldest.t ?? now).changes;
        return { expired, deleted, graph };
      })();
      if (pruned.deleted + pruned.graph > 0) {
        this.db.pragma("incremental_vacuum");
        this.db.pragma("wal_checkpoint(PASSIVE)"); // the file shrinks at a checkpoint: do one now, not at the next 1 000 pages
      }
      return pruned;
    } catch (err) {
      process.stderr.write(`faasade: pruning ${this.file} failed, will try again: ${(err as Error).message}\n`);
      return { expired: 0, deleted: 0, graph: 0 };
    }
  }

  /** Row counts and file pages, for tests and the soak. */
  sizes(): { calls: number; chunks: number; graph: number; pages: number; freePages: number } {
    const count = (table: string) => (this.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      calls: count("calls"),
      chunks: count("chunks"),
      graph: count("graph"),
      pages: this.db.pragma("page_count", { simple: true }) as number,
      freePages: this.db.pragma("freelist_count", { simple: true }) as number,
    };
  }

  /**
   * Call-graph records are best effort (as in memory, core/call-graph.ts): one that cannot be
   * stored is reported on stderr, once per run of failures, and the calls go on.
   */
  putGraphEvents(events: readonly GraphEvent[]): void {
    const insert = this.db.prepare("INSERT INTO graph (event, at) VALUES (?, ?)");
    const at = Date.now();
    try {
      this.db.transaction(() => {
        for (const e of events) insert.run(JSON.stringify(e), at);
      })();
      if (this.graphFailure !== undefined) process.stderr.write(`faasade: call-graph records are stored again in ${this.file}\n`);
      this.graphFailure = undefined;
    } catch (err) {
      const why = (err as Error).message;
      if (this.graphFailure === undefined) {
        process.stderr.write(
          `faasade: call-graph records could not be stored in ${this.file} (${why}); calls go on without them\n`,
        );
      }
      this.graphFailure = why;
    }
  }

  /** The records of one call's tree: the call's, then those of the calls made from its inputs, level by level. */
  graphEventsOf(callId: string): GraphEvent[] {
    const byCall = this.db.prepare("SELECT event FROM graph WHERE json_extract(event, '$.call') = ? ORDER BY seq");
    const children = this.db.prepare(
      "SELECT DISTINCT json_extract(event, '$.call') AS call FROM graph WHERE json_extract(event, '$.parent') = ?",
    );
    const out: GraphEvent[] = [];
    const seen = new Set<string>();
    let level = [callId];
    while (level.length > 0 && seen.size < 100_000) {
      const next: string[] = [];
      for (const call of level) {
        if (seen.has(call)) continue;
        seen.add(call);
        const events = (byCall.all(call) as { event: string }[]).map((r) => JSON.parse(r.event) as GraphEvent);
        out.push(...events);
        for (const e of events) {
          if ("input" in e) for (const c of children.all(e.input) as { call: string }[]) next.push(c.call);
        }
      }
      level = next;
    }
    return out;
  }

  graphEvents(): GraphEvent[] {
    const rows = this.db.prepare("SELECT event FROM graph ORDER BY seq").all() as { event: string }[];
    return rows.map((r) => JSON.parse(r.event) as GraphEvent);
  }
}
