/**
 * The durable state of local deployments, in SQLite (better-sqlite3, imported lazily): deployed
 * apps, autoscaler settings, spawned calls with their inputs and outcomes, generator chunks and
 * call-graph records. Every write is synchronous and committed before it is acknowledged, so a
 * `kill -9` of the server loses nothing that was acknowledged (WAL journal).
 */
import { chmodSync, closeSync, openSync } from "node:fs";
import type BetterSqlite3 from "better-sqlite3";
import type { GraphEvent } from "../../../core/call-graph.js";
import { ExecutionError } from "../../../core/errors.js";
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
CREATE TABLE IF NOT EXISTS graph (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL);
`;

export class Store {
  private constructor(private readonly db: BetterSqlite3.Database) {}

  static async open(file: string): Promise<Store> {
    let Database: typeof BetterSqlite3;
    try {
      Database = (await import("better-sqlite3")).default;
    } catch (err) {
      throw new ExecutionError(
        "local deployments keep their state in SQLite: install better-sqlite3 12 (npm i better-sqlite3@12)",
        {
          cause: err,
        },
      );
    }
    // Owner-only; SQLite gives its -wal and -shm files the database file's mode.
    closeSync(openSync(file, "a", 0o600));
    chmodSync(file, 0o600);
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL"); // durable across a killed process; fsync per commit is for power loss
    db.exec(SCHEMA);
    return new Store(db);
  }

  close(): void {
    this.db.close();
  }

  putApp(manifest: AppManifest): void {
    this.db
      .prepare(
        "INSERT INTO apps (app, env, manifest, deployed_at) VALUES (?, ?, ?, ?) ON CONFLICT (app, env) DO UPDATE SET manifest = excluded.manifest, deployed_at = excluded.deployed_at",
      )
      .run(manifest.app, manifest.environment, JSON.stringify(manifest), Date.now());
  }

  apps(): (AppManifest & { deployedAt: number })[] {
    const rows = this.db.prepare("SELECT manifest, deployed_at FROM apps ORDER BY app, env").all() as {
      manifest: string;
      deployed_at: number;
    }[];
    return rows.map((r) => ({ ...(JSON.parse(r.manifest) as AppManifest), deployedAt: r.deployed_at }));
  }

  /** Forgets an app and everything it left: settings, calls, chunks. */
  deleteApp(app: string, env: string): void {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM chunks WHERE call_id IN (SELECT call_id FROM calls WHERE app = ? AND env = ?)").run(app, env);
      this.db.prepare("DELETE FROM calls WHERE app = ? AND env = ?").run(app, env);
      this.db.prepare("DELETE FROM settings WHERE app = ? AND env = ?").run(app, env);
      this.db.prepare("DELETE FROM apps WHERE app = ? AND env = ?").run(app, env);
    })();
  }

  putSettings(app: string, env: string, fn: string, settings: AutoscalerSettings): void {
    this.db
      .prepare(
        "INSERT INTO settings (app, env, fn, json) VALUES (?, ?, ?, ?) ON CONFLICT (app, env, fn) DO UPDATE SET json = excluded.json",
      )
      .run(app, env, fn, JSON.stringify(settings));
  }

  settings(app: string, env: string, fn: string): AutoscalerSettings | undefined {
    const row = this.db.prepare("SELECT json FROM settings WHERE app = ? AND env = ? AND fn = ?").get(app, env, fn) as
      | { json: string }
      | undefined;
    return row === undefined ? undefined : (JSON.parse(row.json) as AutoscalerSettings);
  }

  insertCall(row: Pick<CallRow, "call_id" | "app" | "env" | "fn" | "is_gen" | "input_id" | "attempt" | "args" | "parent">): void {
    this.db
      .prepare(
        "INSERT INTO calls (call_id, app, env, fn, is_gen, input_id, attempt, args, parent, created_at, status) VALUES (@call_id, @app, @env, @fn, @is_gen, @input_id, @attempt, @args, @parent, @created_at, 'PENDING')",
      )
      .run({ ...row, created_at: Date.now() });
  }

  setAttempt(callId: string, attempt: number): void {
    this.db.prepare("UPDATE calls SET attempt = ? WHERE call_id = ?").run(attempt, callId);
  }

  finishCall(callId: string, outcome: Outcome, retentionMs: number): void {
    const now = Date.now();
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
      );
  }

  call(callId: string): CallRow | undefined {
    return this.db.prepare("SELECT * FROM calls WHERE call_id = ?").get(callId) as CallRow | undefined;
  }

  pendingCalls(): CallRow[] {
    return this.db.prepare("SELECT * FROM calls WHERE status = 'PENDING' ORDER BY created_at").all() as CallRow[];
  }

  addChunk(callId: string, n: number, data: Uint8Array): void {
    this.db.prepare("INSERT OR IGNORE INTO chunks (call_id, n, data) VALUES (?, ?, ?)").run(callId, n, data);
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

  /** Drops the bytes of results past their retention; the row stays, so `get` can say "expired". */
  expire(now = Date.now()): number {
    return this.db.transaction(() => {
      this.db.prepare("DELETE FROM chunks WHERE call_id IN (SELECT call_id FROM calls WHERE expires_at <= ?)").run(now);
      return this.db
        .prepare(
          "UPDATE calls SET value = NULL, error = NULL, args = x'', status = 'EXPIRED' WHERE expires_at <= ? AND status != 'EXPIRED'",
        )
        .run(now).changes;
    })();
  }

  putGraphEvents(events: readonly GraphEvent[]): void {
    const insert = this.db.prepare("INSERT INTO graph (event) VALUES (?)");
    this.db.transaction(() => {
      for (const e of events) insert.run(JSON.stringify(e));
    })();
  }

  graphEvents(): GraphEvent[] {
    const rows = this.db.prepare("SELECT event FROM graph ORDER BY seq").all() as { event: string }[];
    return rows.map((r) => JSON.parse(r.event) as GraphEvent);
  }
}
