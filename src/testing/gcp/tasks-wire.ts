/**
 * The JSON of the Cloud Tasks v2 REST API as the Google clients send and read it in fallback
 * (REST) mode, for the Cloud Tasks test double: proto3 JSON (lowerCamelCase fields, durations
 * as "1.5s", timestamps in RFC 3339, enums as numbers since the clients ask for
 * `$alt=json;enum-encoding=int`, names accepted too), Google's error document, its queue checks,
 * generated ids and pages.
 */
import { randomInt } from "node:crypto";

/** HttpMethod of google/cloud/tasks/v2/target.proto. */
const METHODS = ["HTTP_METHOD_UNSPECIFIED", "POST", "GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"] as const;
/** Queue.State of queue.proto. */
export const QUEUE_STATES = ["STATE_UNSPECIFIED", "RUNNING", "PAUSED", "DISABLED"] as const;
/** Task.View of task.proto: BASIC leaves the body out. */
export const VIEW_BASIC = 1;
export const VIEW_FULL = 2;

/** An enum field as its number, from a number or its name; `undefined` when it is neither. */
export function enumNumber(names: readonly string[], value: unknown): number | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value < names.length) return value;
  const n = typeof value === "string" ? names.indexOf(value) : -1;
  return n >= 0 ? n : undefined;
}

/** The HTTP verb of a task's `httpMethod` (POST when unspecified, as Google does). */
export function httpVerb(value: unknown): string | undefined {
  const n = value === undefined ? 1 : enumNumber(METHODS, value);
  return n === undefined ? undefined : n === 0 ? "POST" : METHODS[n];
}

/** Milliseconds of a proto3 JSON duration ("10s", "0.250s"); `undefined` when malformed. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(-?\d+(?:\.\d{1,9})?)s$/.exec(value);
  return match?.[1] === undefined ? undefined : Math.round(Number(match[1]) * 1000);
}

export const duration = (ms: number) => `${(ms / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;

/** Milliseconds since the epoch of an RFC 3339 timestamp; `undefined` when malformed. */
export function timestampMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export const timestamp = (ms: number) => new Date(ms).toISOString();

/** gRPC codes by name, with the HTTP status Google's REST front end answers for each. */
export const STATUS = {
  INVALID_ARGUMENT: [3, 400],
  NOT_FOUND: [5, 404],
  ALREADY_EXISTS: [6, 409],
  FAILED_PRECONDITION: [9, 400],
  UNAVAILABLE: [14, 503],
  UNIMPLEMENTED: [12, 501],
} as const;

export type StatusName = keyof typeof STATUS;

/** A refusal the double answers with Google's error document. */
export class ApiError extends Error {
  constructor(
    readonly status: StatusName,
    message: string,
  ) {
    super(message);
  }
  get http(): number {
    return STATUS[this.status][1];
  }
  body(): string {
    return JSON.stringify({ error: { code: this.http, message: this.message, status: this.status } });
  }
}

export const invalid = (message: string) => new ApiError("INVALID_ARGUMENT", message);

/** `value` at a dotted lowerCamelCase path of a JSON object. */
export function getPath(object: Record<string, unknown>, path: readonly string[]): unknown {
  let at: unknown = object;
  for (const key of path) at = at !== null && typeof at === "object" ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}

/** Sets (or, with `undefined`, removes) the value at a dotted path, making the objects on the way. */
export function setPath(object: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let at = object;
  for (const key of path.slice(0, -1)) {
    const next = at[key];
    at = next !== null && typeof next === "object" ? (next as Record<string, unknown>) : (at[key] = {});
  }
  const last = path[path.length - 1];
  if (last === undefined) return;
  if (value === undefined) delete at[last];
  else at[last] = value;
}

/** An update mask path ("rate_limits.max_concurrent_dispatches") as JSON keys. */
export const maskPath = (path: string) =>
  path.split(".").map((part) => part.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));

/** Google's queue checks (rate limits within its bounds), and the state as a number. */
export function normalizeQueue(json: Record<string, unknown>): Record<string, unknown> {
  const limits = (json.rateLimits ?? {}) as Record<string, unknown>;
  const concurrent = limits.maxConcurrentDispatches;
  if (typeof concurrent !== "number" || !Number.isInteger(concurrent) || concurrent < 1 || concurrent > 5000) {
    throw invalid(`rateLimits.maxConcurrentDispatches must be an integer in [1, 5000], got ${JSON.stringify(concurrent)}`);
  }
  const perSecond = limits.maxDispatchesPerSecond;
  if (typeof perSecond !== "number" || perSecond <= 0 || perSecond > 500) {
    throw invalid(`rateLimits.maxDispatchesPerSecond must be in (0, 500], got ${JSON.stringify(perSecond)}`);
  }
  const attempts = (json.retryConfig as Record<string, unknown> | undefined)?.maxAttempts;
  if (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < -1) {
    throw invalid(`retryConfig.maxAttempts must be an integer of at least -1, got ${JSON.stringify(attempts)}`);
  }
  const state = json.state === undefined ? 1 : enumNumber(QUEUE_STATES, json.state);
  if (state === undefined || state === 0) throw invalid(`state ${JSON.stringify(json.state)} is not a queue state`);
  return { ...json, state };
}

/** Google's generated task ids are long decimal numbers; never sequential. */
export const generatedId = () => `${randomInt(1, 2 ** 47)}${randomInt(0, 2 ** 47)}`;

export const view = (query: URLSearchParams) =>
  enumNumber(["VIEW_UNSPECIFIED", "BASIC", "FULL"], Number(query.get("responseView") ?? 1)) ?? 1;

/** A page of `items` by `pageSize` and `pageToken` (an offset, opaque to the client). */
export function page<T>(items: T[], query: URLSearchParams, field: string, shape: (item: T) => unknown = (x) => x) {
  const size = Math.min(Number(query.get("pageSize")) || 1000, 1000);
  const from = Number(query.get("pageToken") || 0);
  const slice = items.slice(from, from + size);
  const next = from + size < items.length ? String(from + size) : "";
  return { [field]: slice.map(shape), ...(next ? { nextPageToken: next } : {}) };
}
