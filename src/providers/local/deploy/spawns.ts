/**
 * Spawned calls of a local deployment: stored before they are acknowledged, driven here through
 * their attempts (retries included) against the function's current code, settled in the store,
 * and waited on by `get` from any process. After a restart, unfinished ones run again.
 * A write that fails (a full disk) is retried, in order, until it is stored: `get` sees only what
 * is stored, and a call whose outcome never could be stored runs again at the next start.
 */
import { Attempts, newPending } from "../../../core/attempts.js";
import { recordCall } from "../../../core/call-graph.js";
import type { CallState, FunctionSpec, Outcome, Provider } from "../../../core/provider.js";
import type { LocalProvider } from "../index.js";
import type { CallRow, Store } from "./store.js";

const FIRST_RETRY_MS = 250;
const LAST_RETRY_MS = 5_000;

export class Spawns {
  /** Calls running here: their attempts, to cancel them. */
  private readonly live = new Map<string, Attempts>();
  /** Callers waiting for a call to change (an outcome, a chunk). */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Who hears of every call made or changed (the dashboard's live feed). */
  private readonly watchers = new Set<(callId: string) => void>();
  private stopping = false;
  /** Each call's writes not stored yet, in order: the head is retried until it is stored. */
  private readonly unwritten = new Map<string, (() => void)[]>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  /** Since when writes fail, and why (logged once per run of failures). */
  private failingSince: number | undefined;
  /** Spawned inputs run against the function's current code: a retry after a redeploy runs the new one. */
  private readonly current: Provider;

  constructor(
    private readonly store: Store,
    provider: LocalProvider,
    /** The spec deployed now for a function, if it still is. */
    private readonly specOf: (env: string, app: string, fn: string) => FunctionSpec | undefined,
    private readonly retentionMs: number,
  ) {
    const latest = (fn: FunctionSpec) => specOf(fn.environment, fn.app, fn.name) ?? fn;
    this.current = {
      name: "local",
      canTerminateContainers: true,
      submit: (fn, inputs, sink) => {
        for (const input of inputs) {
          if (input.attempt > 1) this.write(input.callId, () => store.setAttempt(input.callId, input.attempt));
        }
        provider.submit(latest(fn), inputs, sink);
      },
      abort: (fn, ids, o) => provider.abort(latest(fn), ids, o),
      close: async () => {},
    };
  }

  /** Stores the call (idempotently, by call id), then runs it once the answer is on its way. */
  accept(row: Parameters<Store["insertCall"]>[0]): void {
    if (this.store.call(row.call_id) !== undefined) return;
    this.store.insertCall(row);
    this.tell(row.call_id);
    setImmediate(() => this.run(this.store.call(row.call_id) as CallRow));
  }

  /** Runs a stored call: a new one, or after a restart one that had not finished (same attempt). */
  run(row: CallRow): void {
    const spec = this.specOf(row.env, row.app, row.fn);
    const finish = (o: Outcome) => {
      // A server stopping ends its pools, which settles what they held: those inputs stay stored
      // as unfinished and run again at the next start.
      if (this.stopping) return;
      this.live.delete(row.call_id);
      this.write(row.call_id, () => {
        this.store.finishCall(row.call_id, o, this.retentionMs);
        this.notify(row.call_id);
      });
    };
    if (spec === undefined) {
      finish({
        inputId: row.input_id,
        attempt: row.attempt,
        status: "INIT_FAILURE",
        message: `function ${row.fn} is no longer deployed`,
      });
      return;
    }
    let chunks = this.store.chunkCount(row.call_id);
    const attempts = new Attempts(
      this.current,
      spec,
      {
        settle: (_, o) => finish(o),
        chunk: (_, v) => {
          const n = chunks++;
          this.write(row.call_id, () => {
            this.store.addChunk(row.call_id, n, v);
            this.notify(row.call_id);
          });
        },
      },
      true,
    );
    this.live.set(row.call_id, attempts);
    recordCall(row.call_id, row.parent ?? undefined, spec);
    const input = newPending(row.input_id, row.call_id, row.args, 0, row.parent ?? undefined);
    input.attempt = row.attempt; // after a restart: the same attempt again, none used up
    attempts.submit([input]);
  }

  cancel(row: CallRow, terminateContainers: boolean): void {
    const attempts = this.live.get(row.call_id);
    if (attempts !== undefined) attempts.abortAll({ terminateContainers, settle: true });
    else if (row.status === "PENDING") {
      this.store.finishCall(row.call_id, { inputId: row.input_id, attempt: row.attempt, status: "TERMINATED" }, this.retentionMs);
      this.notify(row.call_id);
    }
  }

  /** Stops the app's calls running here (it is being destroyed: its rows go too). */
  abortApp(app: string, env: string): void {
    for (const [callId, attempts] of this.live) {
      const row = this.store.call(callId);
      if (row?.app === app && row.env === env) {
        attempts.abortAll({ terminateContainers: true });
        this.live.delete(callId);
      }
    }
  }

  /** The call as `get` sees it, after waiting up to `waitMs` for it to change while `pending(row)` holds. */
  async stateAfter(callId: string, waitMs: number, pending: (row: CallRow) => boolean): Promise<CallRow> {
    const row = this.store.call(callId) as CallRow;
    if (waitMs <= 0 || !pending(row)) return row;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      const waiters = this.waiters;
      function done() {
        clearTimeout(timer);
        waiters.get(callId)?.delete(done);
        resolve();
      }
      let set = waiters.get(callId);
      if (set === undefined) waiters.set(callId, (set = new Set()));
      set.add(done);
    });
    return this.store.call(callId) as CallRow;
  }

  stop(): void {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    if (this.unwritten.size > 0) {
      process.stderr.write(
        `faasade: stopping with ${this.unwritten.size} calls whose progress is not stored: they run again at the next start\n`,
      );
    }
  }

  /** Stores a call's progress now, or after the writes of that call still waiting; a failure is retried. */
  private write(callId: string, op: () => void): void {
    const queue = this.unwritten.get(callId);
    if (queue !== undefined) {
      queue.push(op);
      return;
    }
    try {
      op();
    } catch (err) {
      this.unwritten.set(callId, [op]);
      this.failed(err);
    }
  }

  /** Retries waiting writes, oldest call first, each call's in order; stops at the first failure. */
  private flush(): void {
    this.retryTimer = undefined;
    if (this.stopping) return;
    for (const [callId, queue] of this.unwritten) {
      while (queue.length > 0) {
        try {
          (queue[0] as () => void)();
        } catch (err) {
          this.failed(err);
          return;
        }
        queue.shift();
      }
      this.unwritten.delete(callId);
    }
    if (this.failingSince !== undefined) {
      const s = ((performance.now() - this.failingSince) / 1000).toFixed(1);
      process.stderr.write(`faasade: the state database takes writes again; every waiting result is stored (after ${s} s)\n`);
    }
    this.failingSince = undefined;
    this.retryMs = FIRST_RETRY_MS;
  }

  private failed(err: unknown): void {
    if (this.failingSince === undefined) {
      this.failingSince = performance.now();
      process.stderr.write(
        `faasade: ${(err as Error)?.message ?? err}; results wait in memory and are retried until they are stored (a call not stored when the server stops runs again at the next start)\n`,
      );
    }
    if (this.retryTimer === undefined && !this.stopping) {
      this.retryTimer = setTimeout(() => this.flush(), this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(LAST_RETRY_MS, this.retryMs * 2);
    }
  }

  /** Hears of each call made or changed from now on, until the returned function is called. */
  watch(changed: (callId: string) => void): () => void {
    this.watchers.add(changed);
    return () => this.watchers.delete(changed);
  }

  private tell(callId: string): void {
    for (const w of this.watchers) w(callId);
  }

  private notify(callId: string): void {
    this.tell(callId);
    const set = this.waiters.get(callId);
    this.waiters.delete(callId);
    for (const w of set ?? []) w();
  }
}

/** What `get` sees of a stored call. */
export function callState(row: CallRow): CallState {
  const base = { fn: row.fn, isGenerator: row.is_gen === 1 };
  if (row.status === "EXPIRED" || (row.expires_at !== null && row.expires_at <= Date.now())) return { state: "expired", ...base };
  if (row.status === "PENDING") return { state: "pending", ...base };
  const outcome: Outcome = {
    inputId: row.input_id,
    attempt: row.attempt,
    status: row.status as Outcome["status"],
    value: row.value ?? undefined,
    error: row.error ?? undefined,
    userError: row.user_error === null ? undefined : row.user_error === 1,
    message: row.message ?? undefined,
    taskId: row.task_id ?? undefined,
  };
  return { state: "done", ...base, outcome };
}
