/**
 * The fault-injecting proxy (../fault-proxy.ts) for the offline Google Cloud backend (a test
 * double, for reliability tests only: not part of `startTestBackend`'s options), in front of the
 * Cloud Storage or the Cloud Tasks test double, or of the function host: Google's own error
 * documents (429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, 500 INTERNAL; Cloud Run's 429 and 503 for
 * a function's URL), resets and restarts. Tasks delivered more
 * than once are the Tasks double's own fault (`TasksDouble.duplicate`): a CreateTask sent twice
 * would be de-duplicated by its name.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ProxyFaults, type RefusalKind, startProxy } from "../fault-proxy.js";

export type { FaultCounts, RefusalKind } from "../fault-proxy.js";

export type GcpService = "storage" | "tasks" | "functions";
export type GcpFaultProxy = ProxyFaults<GcpService>;

/** Starts a proxy in front of the double of `service` at `upstream` (http://127.0.0.1:port). */
export function startGcpFaultProxy(upstream: string, service: GcpService): Promise<GcpFaultProxy> {
  return startProxy<GcpService>(upstream, service, {
    classify: (req) => ({
      service,
      op: service === "storage" ? storageOp(req) : service === "tasks" ? tasksOp(req) : functionOp(req),
    }),
    writeRefusal,
  });
}

/**
 * A Cloud Storage request as `<JSON API method> <area>`: `objects.insert results`,
 * `objects.download payloads`, `objects.list map-results`, ... (the area is the object name's
 * first segment, as faasade's keys are laid out: src/cloud/keys.ts).
 */
function storageOp(req: IncomingMessage): string {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const method = req.method ?? "GET";
  const object = /^\/(?:download\/)?storage\/v1\/b\/[^/]+\/o\/(.+)$/.exec(url.pathname);
  if (object !== null) {
    const area = areaOf(decodeURIComponent(object[1] as string));
    if (method === "GET") return `objects.${url.searchParams.get("alt") === "media" ? "download" : "get"} ${area}`;
    return `objects.${method === "DELETE" ? "delete" : method.toLowerCase()} ${area}`;
  }
  const objects = /^\/(upload\/)?storage\/v1\/b\/[^/]+\/o$/.exec(url.pathname);
  if (objects !== null) {
    if (objects[1] === undefined) return `objects.list ${areaOf(url.searchParams.get("prefix") ?? "")}`;
    return `objects.insert ${areaOf(url.searchParams.get("name") ?? "")}`;
  }
  return `buckets ${method}`;
}

/** The first segment of a key, past the "faasade/" of a shared bucket. */
const areaOf = (key: string) => key.replace(/^faasade\//, "").split("/")[0] ?? "";

const TASK_RPCS: Record<string, string> = {
  "POST tasks": "CreateTask",
  "GET tasks": "ListTasks",
  "GET task": "GetTask",
  "DELETE task": "DeleteTask",
  "POST task:run": "RunTask",
};

/** A Cloud Tasks request as its RPC's name (CreateTask, DeleteTask, ...); queue RPCs as `<method> queue`. */
function tasksOp(req: IncomingMessage): string {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const m = /\/queues\/[^/:]+(\/tasks(\/[^/:]+)?)?(:[a-z]+)?$/i.exec(path);
  const method = req.method ?? "GET";
  if (m === null) return `${method} queues`;
  if (m[1] === undefined) return `${method} queue${m[3] ?? ""}`;
  return TASK_RPCS[`${method} ${m[2] === undefined ? "tasks" : "task"}${m[3] ?? ""}`] ?? `${method} tasks`;
}

/** A request to a function's URL: a task's delivery (Cloud Tasks names it), a streamed call, or a call. */
function functionOp(req: IncomingMessage): string {
  if (req.headers["x-cloudtasks-taskname"] !== undefined) return "task";
  return String(req.headers.accept ?? "").includes("application/x-ndjson") ? "stream" : "call";
}

/** Google's answer for a refused request: its JSON error document (Storage's with the `errors` list it adds). */
function writeRefusal(res: ServerResponse, service: GcpService, kind: RefusalKind, head: boolean, op: string): void {
  const [code, status, reason, message] =
    kind === "throttle"
      ? [429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Quota exceeded: too many requests (a fault of the test proxy)."]
      : kind === "unavailable"
        ? [503, "UNAVAILABLE", "backendError", "The service is currently unavailable (a fault of the test proxy)."]
        : [500, "INTERNAL", "backendError", "Internal error encountered (a fault of the test proxy)."];
  // Media downloads answer errors as text, as Google's media endpoint (and the Storage double) does;
  // so does Cloud Run in front of a function (429: no instance free in time; 503).
  if (service === "functions" || (service === "storage" && op.startsWith("objects.download"))) {
    res.writeHead(code, { "content-type": "text/plain; charset=utf-8" });
    res.end(head ? undefined : message);
    return;
  }
  const error =
    service === "storage"
      ? { code, message, status, errors: [{ message, domain: "global", reason }] }
      : { code, message, status };
  res.writeHead(code, { "content-type": "application/json; charset=utf-8" });
  res.end(head ? undefined : JSON.stringify({ error }));
}
