/**
 * How the Cloud Tasks test double delivers: each task, once its schedule time has come, is one
 * HTTP request to its URL (method, headers, body, an OIDC bearer token when asked for), at most
 * `maxConcurrentDispatches` at a time per queue, aborted after the task's dispatch deadline
 * (a failed attempt, as Google counts it), retried with doubling backoff while the queue's
 * `retryConfig.maxAttempts` allows. `maxDispatchesPerSecond` and `maxRetryDuration` are not
 * enforced by the double.
 */
import type { IdTokenDouble } from "./id-tokens.js";
import { durationMs } from "./tasks-wire.js";

export interface Attempt {
  scheduleMs: number;
  dispatchMs: number;
  responseMs?: number;
  /** The HTTP status the target answered; absent when it did not answer (deadline, unreachable). */
  status?: number;
}

export interface StoredTask {
  name: string;
  url: string;
  verb: string;
  headers: Record<string, string>;
  /** base64, as the API carries it. */
  body: string;
  oidc?: { serviceAccountEmail: string; audience?: string };
  scheduleMs: number;
  createMs: number;
  deadlineMs: number;
  dispatchCount: number;
  responseCount: number;
  firstAttempt?: Attempt;
  lastAttempt?: Attempt;
  running: boolean;
  timer?: NodeJS.Timeout | undefined;
  /** A duplicate delivery of a task (a fault): dispatched beside the queue's own, never settling the task. */
  copy?: boolean;
}

export interface StoredQueue {
  /** The queue as the API shows it (proto3 JSON, defaults filled in). */
  json: Record<string, unknown>;
  tasks: Map<string, StoredTask>;
  /** Tasks whose time has come, in that order, waiting for a dispatch slot. */
  due: StoredTask[];
  running: number;
  maxRunning: number;
}

/** One delivery attempt, for tests to read. */
export interface DispatchRecord {
  queue: string;
  task: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The target's HTTP status; absent when it did not answer. */
  status?: number;
  outcome: "succeeded" | "failed" | "deadline" | "unreachable";
  /** A duplicate delivery (`TasksDouble.duplicate`), not one of the queue's attempts. */
  copy?: true;
  startedAt: number;
  ms: number;
}

export interface DispatchHooks {
  /** Signs the OIDC tokens of tasks that ask for one (the function host verifies them). */
  tokens: IdTokenDouble;
  /** Deadlines are enforced at this share of their length (tests of the deadline need not wait 15 s). */
  deadlineScale: number;
  /** The task is done for good (succeeded, out of attempts): the store forgets it and keeps its name. */
  finished(queue: StoredQueue, task: StoredTask): void;
  record(entry: DispatchRecord): void;
  /** A dispatch of the queue's own (not a copy) has begun: where duplicate deliveries are made. */
  started?(queue: StoredQueue, task: StoredTask): void;
  /** Aborts every in-flight request when the double closes. */
  closing: AbortSignal;
}

const num = (value: unknown, fallback: number) => (typeof value === "number" && Number.isFinite(value) ? value : fallback);
const limits = (q: StoredQueue) => (q.json.rateLimits ?? {}) as Record<string, unknown>;
const retry = (q: StoredQueue) => (q.json.retryConfig ?? {}) as Record<string, unknown>;
const RUNNING = 1;

/** Puts the task on its queue's timer; once due, it waits for a dispatch slot. */
export function schedule(q: StoredQueue, task: StoredTask, hooks: DispatchHooks): void {
  clearTimeout(task.timer);
  const wait = Math.max(0, task.scheduleMs - Date.now());
  task.timer = setTimeout(() => {
    task.timer = undefined;
    if (q.tasks.get(task.name) !== task) return;
    q.due.push(task);
    pump(q, hooks);
  }, wait);
}

/** Starts due tasks while the queue runs and has free slots. */
export function pump(q: StoredQueue, hooks: DispatchHooks): void {
  const state = q.json.state;
  if (state !== RUNNING || hooks.closing.aborted) return;
  const slots = num(limits(q).maxConcurrentDispatches, 1000);
  while (q.running < slots && q.due.length > 0) {
    const task = q.due.shift() as StoredTask;
    if (q.tasks.get(task.name) === task && !task.running) void dispatch(q, task, hooks);
  }
}

async function requestHeaders(q: StoredQueue, task: StoredTask, tokens: IdTokenDouble): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    "user-agent": "Google-Cloud-Tasks",
    ...(task.body ? { "content-type": "application/octet-stream" } : {}),
    ...Object.fromEntries(Object.entries(task.headers).map(([k, v]) => [k.toLowerCase(), v])),
    "x-cloudtasks-queuename": String(q.json.name).split("/").pop() ?? "",
    "x-cloudtasks-taskname": task.name.split("/").pop() ?? "",
    "x-cloudtasks-taskretrycount": String(task.dispatchCount - 1),
    "x-cloudtasks-taskexecutioncount": String(task.responseCount),
    "x-cloudtasks-tasketa": (task.scheduleMs / 1000).toFixed(6),
  };
  if (task.oidc) {
    const audience = task.oidc.audience || task.url;
    headers.authorization = `Bearer ${await tokens.idToken(audience, task.oidc.serviceAccountEmail)}`;
  }
  return headers;
}

async function dispatch(q: StoredQueue, task: StoredTask, hooks: DispatchHooks): Promise<void> {
  task.running = true;
  task.dispatchCount += 1;
  q.running += 1;
  q.maxRunning = Math.max(q.maxRunning, q.running);
  const startedAt = Date.now();
  const attempt: Attempt = { scheduleMs: task.scheduleMs, dispatchMs: startedAt };
  task.firstAttempt ??= attempt;
  task.lastAttempt = attempt;
  if (!task.copy) hooks.started?.(q, task);
  const deadline = AbortSignal.timeout(Math.max(1, Math.round(task.deadlineMs * hooks.deadlineScale)));
  let outcome: DispatchRecord["outcome"];
  try {
    const answer = await fetch(task.url, {
      method: task.verb,
      headers: await requestHeaders(q, task, hooks.tokens),
      ...(task.body && task.verb !== "GET" && task.verb !== "HEAD" ? { body: Buffer.from(task.body, "base64") } : {}),
      signal: AbortSignal.any([deadline, hooks.closing]),
    });
    await answer.arrayBuffer();
    attempt.status = answer.status;
    attempt.responseMs = Date.now();
    task.responseCount += 1;
    outcome = answer.ok ? "succeeded" : "failed";
  } catch {
    outcome = deadline.aborted ? "deadline" : "unreachable";
  }
  q.running -= 1;
  task.running = false;
  hooks.record({
    queue: String(q.json.name),
    task: task.name,
    attempt: task.dispatchCount,
    ...(attempt.status === undefined ? {} : { status: attempt.status }),
    outcome,
    ...(task.copy ? { copy: true as const } : {}),
    startedAt,
    ms: Date.now() - startedAt,
  });
  if (q.tasks.get(task.name) === task) settle(q, task, outcome === "succeeded", hooks);
  pump(q, hooks);
}

/**
 * The same request once more, as Cloud Tasks' at-least-once delivery sometimes makes it: the
 * task's method, headers (its retry count, or `laterRetries` more), body and a fresh token,
 * outside the queue's concurrency limit, its outcome recorded and otherwise ignored.
 */
export function dispatchCopy(q: StoredQueue, task: StoredTask, hooks: DispatchHooks, laterRetries = 0): void {
  if (hooks.closing.aborted) return;
  const { timer: _timer, ...rest } = task;
  const dispatchCount = Math.max(0, task.dispatchCount - 1) + laterRetries;
  void dispatch(q, { ...rest, dispatchCount, running: false, copy: true }, hooks);
}

/** After an attempt: done for good, or back on the timer after the backoff. */
function settle(q: StoredQueue, task: StoredTask, succeeded: boolean, hooks: DispatchHooks): void {
  const maxAttempts = num(retry(q).maxAttempts, 100);
  const attemptsLeft = maxAttempts === -1 || task.dispatchCount < maxAttempts;
  if (succeeded || !attemptsLeft || hooks.closing.aborted) {
    hooks.finished(q, task);
    return;
  }
  const minBackoff = durationMs(retry(q).minBackoff) ?? 100;
  const maxBackoff = durationMs(retry(q).maxBackoff) ?? 3_600_000;
  const doublings = Math.min(task.dispatchCount - 1, num(retry(q).maxDoublings, 16));
  task.scheduleMs = Date.now() + Math.min(maxBackoff, minBackoff * 2 ** doublings);
  schedule(q, task, hooks);
}
