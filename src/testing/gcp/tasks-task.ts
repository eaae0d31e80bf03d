/**
 * A task of the Cloud Tasks test double: CreateTask's checks, as Google makes them (an HTTP
 * target, a name within the queue of [A-Za-z0-9_-]{1,500}, a schedule time at most 30 days
 * ahead, a dispatch deadline in [15 s, 30 min], at most 1 MB in all), and the task as the API
 * shows it in its BASIC (no body) and FULL views.
 */
import type { StoredTask } from "./tasks-dispatch.js";
import { VIEW_FULL, duration, durationMs, httpVerb, invalid, timestamp, timestampMs } from "./tasks-wire.js";

export type { StoredTask } from "./tasks-dispatch.js";

const MAX_TASK_BYTES = 1_000_000; // "1 MB" (Google's quota page); the stricter reading of it
const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3_600_000;
const DEFAULT_DEADLINE_MS = 10 * 60_000;
const MIN_DEADLINE_MS = 15_000;
const MAX_DEADLINE_MS = 30 * 60_000;

type Json = Record<string, unknown>;

export function taskFromRequest(queue: string, given: Json): StoredTask {
  const name = String(given.name);
  if (!name.startsWith(`${queue}/tasks/`) || !/^[A-Za-z0-9_-]{1,500}$/.test(name.slice(queue.length + 7))) {
    throw invalid(`Task name '${name}' must be ${queue}/tasks/TASK_ID, TASK_ID of at most 500 of [A-Za-z0-9_-]`);
  }
  if (given.appEngineHttpRequest !== undefined) throw invalid("App Engine tasks are not supported by the test double");
  const http = given.httpRequest as Json | undefined;
  const url = typeof http?.url === "string" ? http.url : "";
  if (http === undefined || !/^https?:\/\//.test(url)) throw invalid(`httpRequest.url must be an http(s) URL, got '${url}'`);
  const verb = httpVerb(http.httpMethod);
  if (verb === undefined) throw invalid(`httpRequest.httpMethod ${JSON.stringify(http.httpMethod)} is not an HTTP method`);
  const headers = (http.headers ?? {}) as Record<string, string>;
  const body = typeof http.body === "string" ? http.body : "";
  const oidc = http.oidcToken as { serviceAccountEmail?: string; audience?: string } | undefined;
  if (oidc !== undefined && !oidc.serviceAccountEmail) throw invalid("httpRequest.oidcToken.serviceAccountEmail is required");
  const size =
    Buffer.byteLength(name) +
    Buffer.byteLength(url) +
    Buffer.byteLength(JSON.stringify(headers)) +
    Buffer.from(body, "base64").length;
  if (size > MAX_TASK_BYTES) throw invalid(`Task size too large: ${size} bytes, the limit is ${MAX_TASK_BYTES}`);
  const now = Date.now();
  const scheduleMs = given.scheduleTime === undefined ? now : timestampMs(given.scheduleTime);
  if (scheduleMs === undefined) throw invalid(`scheduleTime ${JSON.stringify(given.scheduleTime)} is not a timestamp`);
  if (scheduleMs > now + MAX_SCHEDULE_AHEAD_MS) throw invalid(`scheduleTime ${given.scheduleTime} is more than 30 days ahead`);
  const deadlineMs = given.dispatchDeadline === undefined ? DEFAULT_DEADLINE_MS : durationMs(given.dispatchDeadline);
  if (deadlineMs === undefined || deadlineMs < MIN_DEADLINE_MS || deadlineMs > MAX_DEADLINE_MS) {
    throw invalid(`dispatchDeadline ${JSON.stringify(given.dispatchDeadline)} must be in [15s, 1800s]`);
  }
  return {
    name,
    url,
    verb,
    headers,
    body,
    ...(oidc
      ? {
          oidc: {
            serviceAccountEmail: oidc.serviceAccountEmail as string,
            ...(oidc.audience ? { audience: oidc.audience } : {}),
          },
        }
      : {}),
    scheduleMs: Math.max(now, scheduleMs),
    createMs: now,
    deadlineMs,
    dispatchCount: 0,
    responseCount: 0,
    running: false,
  };
}

const METHOD_NUMBERS: Record<string, number> = { POST: 1, GET: 2, HEAD: 3, PUT: 4, DELETE: 5, PATCH: 6, OPTIONS: 7 };

function attemptJson(a: NonNullable<StoredTask["lastAttempt"]>): Json {
  return {
    scheduleTime: timestamp(a.scheduleMs),
    dispatchTime: timestamp(a.dispatchMs),
    ...(a.responseMs === undefined ? {} : { responseTime: timestamp(a.responseMs) }),
    ...(a.status === undefined
      ? {}
      : { responseStatus: { code: a.status < 300 ? 0 : rpcCode(a.status), message: `HTTP ${a.status}` } }),
  };
}

/** The gRPC code Google reports for a target's HTTP status (its documented mapping, coarsely). */
const rpcCode = (status: number) =>
  ({ 400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 499: 1, 501: 12, 503: 14, 504: 4 })[status] ?? (status >= 500 ? 13 : 2);

export function tasksJson(task: StoredTask, view: number): Json {
  return {
    name: task.name,
    httpRequest: {
      url: task.url,
      httpMethod: METHOD_NUMBERS[task.verb] ?? 1,
      headers: task.headers,
      ...(view === VIEW_FULL && task.body ? { body: task.body } : {}),
      ...(task.oidc ? { oidcToken: task.oidc } : {}),
    },
    scheduleTime: timestamp(task.scheduleMs),
    createTime: timestamp(task.createMs),
    dispatchDeadline: duration(task.deadlineMs),
    dispatchCount: task.dispatchCount,
    responseCount: task.responseCount,
    ...(task.firstAttempt ? { firstAttempt: attemptJson(task.firstAttempt) } : {}),
    ...(task.lastAttempt ? { lastAttempt: attemptJson(task.lastAttempt) } : {}),
    view,
  };
}
