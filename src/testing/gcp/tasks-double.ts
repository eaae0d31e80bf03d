/**
 * A TEST DOUBLE of Cloud Tasks (v2 REST API), for offline tests only: Google ships no Cloud
 * Tasks emulator, so this loopback server (127.0.0.1, a port of its own) answers the requests
 * the real `@google-cloud/tasks` client makes in fallback (REST) mode — queues create, get,
 * update with an update mask, delete, list, pause, resume, purge; tasks create, get, delete,
 * list, run — with Google's error documents (NOT_FOUND 404, ALREADY_EXISTS 409, ...). Nothing
 * is long-running in Cloud Tasks, and nothing here either.
 *
 * It really dispatches (tasks-dispatch.ts): each task is an HTTP request to its URL at its
 * schedule time, within the queue's concurrency limit and the task's dispatch deadline, with
 * a test OIDC token (id-tokens.ts) when the task asks for one. Task names stay taken for
 * `dedupWindowMs` after the task is gone (finished or deleted), as Google keeps them about an
 * hour. A fault hook answers the next requests with 503 UNAVAILABLE or drops their connections;
 * another delivers tasks more than once (at-least-once delivery), as Google may.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type DispatchHooks, type DispatchRecord, type StoredQueue, dispatchCopy, pump, schedule } from "./tasks-dispatch.js";
import { type IdTokenDouble, idTokenDouble } from "./id-tokens.js";
import { loopbackAuth } from "./loopback-auth.js";
import { type Route, route } from "./tasks-routes.js";
import { type StoredTask, tasksJson, taskFromRequest } from "./tasks-task.js";
import {
  ApiError,
  enumNumber,
  generatedId,
  getPath,
  invalid,
  maskPath,
  normalizeQueue,
  page,
  setPath,
  view,
} from "./tasks-wire.js";

export type { DispatchRecord } from "./tasks-dispatch.js";

export interface TasksDoubleOptions {
  /** How long a task's name stays taken after the task is gone. @default 3_600_000 (Google: about an hour) */
  dedupWindowMs?: number;
  /** How long a deleted queue's name cannot be used again. @default 0 (Google: 7 days) */
  queueNameHoldMs?: number;
  /** The signer of the OIDC test tokens; give the function host the same one to verify them. @default a fresh one */
  tokens?: IdTokenDouble;
  /**
   * Dispatch deadlines are enforced at this share of their length, so that a test of the
   * deadline need not wait Google's 15 s minimum; tasks still declare and show real deadlines.
   * @default 1
   */
  deadlineScale?: number;
}

/** What one queue has seen, for tests (v2's Queue has no `stats` field). */
export interface QueueStats {
  /** Tasks held: waiting, due or being dispatched. */
  tasks: number;
  /** Requests in flight now, and the most ever at once. */
  running: number;
  maxRunning: number;
  /** Dispatch attempts made, and how they ended. */
  dispatches: number;
  succeeded: number;
}

export interface TasksDouble {
  /** `http://127.0.0.1:<port>`: the `tasks` endpoint for gcpClients. */
  readonly url: string;
  /** An auth client for the Google clients that adds nothing (the double checks no credentials). */
  /** The auth client the real Google client needs to talk to this double. */
  readonly authClient: typeof loopbackAuth;
  /** The signer of the dispatched OIDC tokens: `tokens.verify(token, audience)` checks one. */
  readonly tokens: IdTokenDouble;
  /** Every dispatch attempt so far, in the order they ended. */
  readonly dispatches: readonly DispatchRecord[];
  /** API requests received, by RPC name (`CreateTask`: 3, ...), faulted ones included. */
  readonly calls: Readonly<Record<string, number>>;
  stats(queueName: string): QueueStats;
  /** The next `count` API requests (of RPCs matching `rpc`, when given) answer 503 UNAVAILABLE, or have their connection dropped. */
  fail(count: number, options?: { kind?: "unavailable" | "reset"; rpc?: RegExp }): void;
  /**
   * For `ms`, every task whose dispatch begins is also delivered `copies` more times,
   * `delaySeconds` after (0: at once), beside the queue's own attempts (its records say `copy`).
   * Each copy carries the dispatch's own retry count (the platform's rare duplicate), or with
   * `asRedeliveries` the next ones (1, 2, ...), as Cloud Tasks' retries of a dispatch it saw fail.
   */
  duplicate(o: { ms: number; copies?: number; delaySeconds?: number; asRedeliveries?: boolean }): void;
  /** Ends the `duplicate` windows and drops the copies not yet delivered. */
  clearDuplicates(): void;
  close(): Promise<void>;
}

const QUEUE_DEFAULTS = {
  rateLimits: { maxDispatchesPerSecond: 500, maxBurstSize: 100, maxConcurrentDispatches: 1000 },
  retryConfig: { maxAttempts: 100, minBackoff: "0.100s", maxBackoff: "3600s", maxDoublings: 16, maxRetryDuration: "0s" },
};

export async function startTasksDouble(options: TasksDoubleOptions = {}): Promise<TasksDouble> {
  const api = new TasksApi(options);
  const server = createServer((req, res) => void api.serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    authClient: loopbackAuth,
    tokens: api.hooks.tokens,
    dispatches: api.log,
    calls: api.calls,
    stats: (name) => api.stats(name),
    fail: (count, o = {}) => api.faults.push({ left: count, kind: o.kind ?? "unavailable", rpc: o.rpc }),
    duplicate: (o) =>
      api.duplications.push({
        until: Date.now() + o.ms,
        copies: o.copies ?? 1,
        delayMs: (o.delaySeconds ?? 0) * 1000,
        asRedeliveries: o.asRedeliveries === true,
      }),
    clearDuplicates: () => api.clearDuplicates(),
    close: () => api.close(server),
  };
}

interface Fault {
  left: number;
  kind: "unavailable" | "reset";
  rpc: RegExp | undefined;
}

class TasksApi {
  readonly queues = new Map<string, StoredQueue>();
  /** Names of tasks gone, and of queues deleted, until they may be used again. */
  readonly taken = new Map<string, number>();
  readonly log: DispatchRecord[] = [];
  readonly calls: Record<string, number> = {};
  readonly faults: Fault[] = [];
  readonly duplications: { until: number; copies: number; delayMs: number; asRedeliveries: boolean }[] = [];
  /** Copies waiting for their time. */
  private readonly copies = new Set<NodeJS.Timeout>();
  readonly hooks: DispatchHooks;
  private readonly closer = new AbortController();
  private readonly counts = new Map<string, { dispatches: number; succeeded: number }>();

  constructor(private readonly options: TasksDoubleOptions) {
    this.hooks = {
      tokens: options.tokens ?? idTokenDouble(),
      deadlineScale: options.deadlineScale ?? 1,
      closing: this.closer.signal,
      record: (entry) => {
        this.log.push(entry);
        const c = this.countsOf(entry.queue);
        c.dispatches += 1;
        if (entry.outcome === "succeeded") c.succeeded += 1;
      },
      finished: (q, task) => this.forget(q, task),
      started: (q, task) => this.duplicateOf(q, task),
    };
  }

  /** The copies of a dispatch that a `duplicate` window asks for, each on its own timer. */
  private duplicateOf(q: StoredQueue, task: StoredTask): void {
    const now = Date.now();
    const window = this.duplications.find((d) => d.until > now);
    if (window === undefined) return;
    const snapshot = { ...task, timer: undefined };
    for (let i = 0; i < window.copies; i++) {
      const timer = setTimeout(() => {
        this.copies.delete(timer);
        dispatchCopy(q, snapshot, this.hooks, window.asRedeliveries ? i + 1 : 0);
      }, window.delayMs);
      this.copies.add(timer);
    }
  }

  clearDuplicates(): void {
    this.duplications.length = 0;
    for (const timer of this.copies) clearTimeout(timer);
    this.copies.clear();
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const at = route(req.method ?? "GET", url.pathname);
    const rpc = at?.rpc ?? "Unknown";
    this.calls[rpc] = (this.calls[rpc] ?? 0) + 1;
    const fault = this.faults.find((f) => f.left > 0 && (f.rpc === undefined || f.rpc.test(rpc)));
    if (fault !== undefined) {
      fault.left -= 1;
      if (fault.kind === "reset") return void req.socket.destroy();
      return this.answer(res, new ApiError("UNAVAILABLE", "The service is currently unavailable (a fault of the test double)."));
    }
    try {
      const body = await readJson(req);
      if (at === undefined) throw new ApiError("NOT_FOUND", `no Cloud Tasks method at ${req.method} ${url.pathname}`);
      this.answer(res, this.handle(at, body, url.searchParams));
    } catch (err) {
      this.answer(res, err instanceof ApiError ? err : new ApiError("INVALID_ARGUMENT", String(err)));
    }
  }

  private answer(res: ServerResponse, result: unknown): void {
    const failed = result instanceof ApiError;
    res.writeHead(failed ? result.http : 200, { "content-type": "application/json; charset=utf-8" });
    res.end(failed ? result.body() : JSON.stringify(result ?? {}));
  }

  private handle(at: Route, body: Record<string, unknown>, query: URLSearchParams): unknown {
    const q = () => this.queue(at.queue as string);
    switch (at.rpc) {
      case "ListQueues":
        return page(
          [...this.queues.values()].filter((s) => String(s.json.name).startsWith(`${at.location}/`)).map((s) => s.json),
          query,
          "queues",
        );
      case "CreateQueue":
        return this.createQueue(at.location, body);
      case "GetQueue":
        return q().json;
      case "UpdateQueue":
        return this.updateQueue(String(getPath(body, ["name"]) ?? ""), body, query.get("updateMask"), at);
      case "DeleteQueue":
        return this.deleteQueue(q());
      case "PauseQueue":
        return this.setState(q(), 2);
      case "ResumeQueue":
        return this.setState(q(), 1);
      case "PurgeQueue":
        for (const task of q().tasks.values()) this.forget(q(), task);
        q().json = { ...q().json, purgeTime: new Date().toISOString() };
        return q().json;
      case "ListTasks":
        return page([...q().tasks.values()], query, "tasks", (t) => tasksJson(t, view(query)));
      case "CreateTask":
        return this.createTask(q(), body);
      case "GetTask":
        return tasksJson(this.task(q(), at.task as string), view(query));
      case "DeleteTask":
        this.forget(q(), this.task(q(), at.task as string));
        return {};
      case "RunTask":
        return this.runTask(q(), this.task(q(), at.task as string), body);
      default:
        throw new ApiError("UNIMPLEMENTED", `${at.rpc} is not implemented by the Cloud Tasks test double`);
    }
  }

  private queue(name: string): StoredQueue {
    const q = this.queues.get(name);
    if (q === undefined) throw new ApiError("NOT_FOUND", `Requested entity was not found: queue ${name}`);
    return q;
  }

  private task(q: StoredQueue, name: string): StoredTask {
    const task = q.tasks.get(name);
    if (task === undefined) throw new ApiError("NOT_FOUND", `Requested entity was not found: task ${name}`);
    return task;
  }

  private createQueue(location: string, body: Record<string, unknown>): unknown {
    const name = String(body.name ?? "");
    if (!new RegExp(`^${location}/queues/[A-Za-z0-9-]{1,100}$`).test(name)) {
      throw invalid(`Queue name '${name}' must be ${location}/queues/QUEUE_ID, QUEUE_ID of letters, digits and hyphens`);
    }
    if (this.queues.has(name) || this.isTaken(name)) {
      throw new ApiError("ALREADY_EXISTS", `Queue ${name} already exists, or was deleted too recently to be made again`);
    }
    const given = body as { rateLimits?: object; retryConfig?: object };
    const json = normalizeQueue({
      ...body,
      name,
      rateLimits: { ...QUEUE_DEFAULTS.rateLimits, ...given.rateLimits },
      retryConfig: { ...QUEUE_DEFAULTS.retryConfig, ...given.retryConfig },
    });
    this.queues.set(name, { json, tasks: new Map(), due: [], running: 0, maxRunning: 0 });
    return json;
  }

  /** UpdateQueue sets the masked fields (all given ones without a mask) and makes the queue if it does not exist, as Google does. */
  private updateQueue(name: string, body: Record<string, unknown>, mask: string | null, at: Route): unknown {
    const target = at.queue as string;
    if (name !== "" && name !== target) throw invalid(`queue.name '${name}' differs from the path's ${target}`);
    const existing = this.queues.get(target);
    if (existing === undefined) return this.createQueue(at.location, { ...body, name: target });
    const next = structuredClone(existing.json);
    const paths = mask ? mask.split(",").map(maskPath) : Object.keys(body).map((k) => [k]);
    for (const path of paths) {
      if (path[0] === "name") continue;
      const given = getPath(body, path);
      setPath(next, path, given === undefined ? getPath(QUEUE_DEFAULTS, path) : structuredClone(given));
    }
    existing.json = normalizeQueue(next);
    pump(existing, this.hooks);
    return existing.json;
  }

  private deleteQueue(q: StoredQueue): unknown {
    for (const task of q.tasks.values()) this.forget(q, task);
    const name = String(q.json.name);
    this.queues.delete(name);
    if (this.options.queueNameHoldMs) this.taken.set(name, Date.now() + this.options.queueNameHoldMs);
    return {};
  }

  private setState(q: StoredQueue, state: number): unknown {
    q.json = { ...q.json, state };
    pump(q, this.hooks);
    return q.json;
  }

  private createTask(q: StoredQueue, body: Record<string, unknown>): unknown {
    if (q.json.state === 3) throw new ApiError("FAILED_PRECONDITION", `Queue ${q.json.name} is disabled`);
    const given = (body.task ?? {}) as Record<string, unknown>;
    const name = given.name === undefined || given.name === "" ? `${q.json.name}/tasks/${generatedId()}` : String(given.name);
    const task = taskFromRequest(String(q.json.name), { ...given, name });
    if (q.tasks.has(name) || this.isTaken(name)) {
      throw new ApiError("ALREADY_EXISTS", `Requested entity already exists: task ${name} (names stay taken for about an hour)`);
    }
    q.tasks.set(name, task);
    schedule(q, task, this.hooks);
    return tasksJson(task, enumNumber(["VIEW_UNSPECIFIED", "BASIC", "FULL"], body.responseView) ?? 1);
  }

  private runTask(q: StoredQueue, task: StoredTask, body: Record<string, unknown>): unknown {
    if (!task.running) {
      task.scheduleMs = Date.now();
      schedule(q, task, this.hooks);
    }
    return tasksJson(task, enumNumber(["VIEW_UNSPECIFIED", "BASIC", "FULL"], body.responseView) ?? 1);
  }

  /** The task leaves the queue (no further attempt); its name stays taken for the de-dup window. */
  private forget(q: StoredQueue, task: StoredTask): void {
    clearTimeout(task.timer);
    q.tasks.delete(task.name);
    this.taken.set(task.name, Date.now() + (this.options.dedupWindowMs ?? 3_600_000));
  }

  private isTaken(name: string): boolean {
    const until = this.taken.get(name);
    if (until !== undefined && until <= Date.now()) this.taken.delete(name);
    return until !== undefined && until > Date.now();
  }

  private countsOf(queue: string) {
    let c = this.counts.get(queue);
    if (c === undefined) this.counts.set(queue, (c = { dispatches: 0, succeeded: 0 }));
    return c;
  }

  stats(name: string): QueueStats {
    const q = this.queues.get(name);
    return {
      tasks: q?.tasks.size ?? 0,
      running: q?.running ?? 0,
      maxRunning: q?.maxRunning ?? 0,
      ...this.countsOf(name),
    };
  }

  async close(server: Server): Promise<void> {
    this.closer.abort();
    this.clearDuplicates();
    for (const q of this.queues.values()) for (const task of q.tasks.values()) clearTimeout(task.timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  if (text === "") return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw invalid("the request body is not a JSON object");
  return parsed as Record<string, unknown>;
}
