/** The dashboard's request parameters, checked: a bad one is a 400 that names it and its value. */
import { InputStatus } from "../core/provider.js";
import type { CallsWatched } from "./events.js";
import type { CallQuery, FunctionRef } from "./source.js";

export class DashboardHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
const NAME = /^[\w.-]{1,128}$/;
const CALL_ID = /^fc-[\w-]{1,80}$/;
const STATUSES: readonly string[] = [...Object.values(InputStatus), "EXPIRED"];

const shown = (value: string) => JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
const bad = (what: string, value: string, want: string) =>
  new DashboardHttpError(400, `${what} ${shown(value)} is not valid: ${want}`);

export function checkName(what: string, value: string): string {
  if (!NAME.test(value)) throw bad(what, value, "expected 1 to 128 letters, digits, '_', '.' or '-'");
  return value;
}

export function checkCallId(value: string): string {
  if (!CALL_ID.test(value)) throw bad("call id", value, "expected fc- and up to 80 letters, digits, '_' or '-'");
  return value;
}

export function checkRef(env: string, app: string, fn: string): FunctionRef {
  return { env: checkName("environment", env), app: checkName("app", app), fn: checkName("function", fn) };
}

/** `?status=&before=&limit=` of a call list. */
export function checkCallQuery(query: URLSearchParams): CallQuery {
  for (const key of query.keys()) {
    if (!["status", "before", "limit"].includes(key)) throw bad("query parameter", key, "expected status, before or limit");
  }
  const out: CallQuery = { limit: DEFAULT_LIMIT };
  const status = query.get("status");
  if (status !== null) {
    if (!STATUSES.includes(status)) throw bad("status", status, `expected one of ${STATUSES.join(", ")}`);
    out.status = status as NonNullable<CallQuery["status"]>;
  }
  const limit = query.get("limit");
  if (limit !== null) {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > MAX_LIMIT) throw bad("limit", limit, `expected an integer from 1 to ${MAX_LIMIT}`);
    out.limit = n;
  }
  const before = query.get("before");
  if (before !== null) out.before = checkCursor(before);
  return out;
}

/** A page cursor: `<created_at>.<call id>` of the last call of the page before. */
export function checkCursor(value: string): string {
  const [at, id] = splitCursor(value);
  if (!/^\d{1,16}$/.test(at) || !CALL_ID.test(id)) throw bad("cursor (before)", value, "expected the `next` of a previous page");
  return value;
}

export function splitCursor(value: string): [string, string] {
  const dot = value.indexOf(".");
  return dot < 0 ? [value, ""] : [value.slice(0, dot), value.slice(dot + 1)];
}

export const cursorOf = (createdAt: number, callId: string) => `${createdAt}.${callId}`;

/** The live feed's `?fn=<env>/<app>/<fn>` or `?calls=none` (events.ts); neither: every function's calls. */
export function checkWatched(query: URLSearchParams): CallsWatched {
  for (const key of query.keys()) {
    if (!["fn", "calls"].includes(key)) throw bad("query parameter", key, "expected fn or calls");
  }
  const fn = query.get("fn");
  const calls = query.get("calls");
  if (calls !== null && (calls !== "none" || fn !== null)) throw bad("calls", calls, 'expected "none", and no fn beside it');
  if (calls === "none") return "none";
  if (fn === null) return "all";
  const [env, app, name, ...rest] = fn.split("/");
  if (env === undefined || app === undefined || name === undefined || rest.length > 0)
    throw bad("fn", fn, "expected <environment>/<app>/<function>");
  return checkRef(env, app, name);
}

/** The body of keep-warm: `{"n": <integer>}` (the autoscaler checks its bounds). */
export function checkKeepWarm(body: unknown): number {
  const n = (body as { n?: unknown } | null)?.n;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new DashboardHttpError(400, `keep-warm: n must be an integer of 0 or more, got ${JSON.stringify(n) ?? "nothing"}`);
  }
  return n;
}
