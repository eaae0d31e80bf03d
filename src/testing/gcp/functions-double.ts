/**
 * A test double of the Cloud Functions v2 admin API (FunctionService), on 127.0.0.1, for the
 * real `@google-cloud/functions` client in REST mode: functions get/list/create/patch/delete as
 * long-running operations, GenerateUploadUrl with the zip PUT it hands out (refused with an
 * Authorization header, as Google's signed URLs are), and a function's IAM policy. No emulator
 * of this API exists; this one keeps what faasade's deploy and its contract tests need, and
 * records every request so that tests can count them. `onDeploy` lets a backend serve what was
 * deployed (its URL becomes the function's).
 */
import { randomUUID } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody, sendJson as send } from "./double-http.js";

/** A function as the REST API carries it (proto3 JSON: camelCase, enums as names). */
export interface FunctionJson {
  name: string;
  state?: string;
  environment?: string;
  url?: string;
  labels?: Record<string, string>;
  buildConfig?: { runtime?: string; entryPoint?: string; source?: { storageSource?: { bucket?: string; object?: string } } };
  serviceConfig?: Record<string, unknown>;
  updateTime?: string;
  [field: string]: unknown;
}

export interface FunctionsDoubleOptions {
  /** Called when a function is created or its code or settings change; its answer, if any, is the function's URL. */
  onDeploy?: (fn: FunctionJson, zip: Buffer | undefined) => Promise<string | undefined> | string | undefined;
  /** Polls of an operation before it is done (the client must poll). @default 1 */
  pollsUntilDone?: number;
}

interface Operation {
  name: string;
  polls: number;
  result: () => Promise<{ response?: FunctionJson; error?: { code: number; message: string } }>;
  settled?: { response?: FunctionJson; error?: { code: number; message: string } };
}

export interface FunctionsDouble {
  url: string;
  port: number;
  functions: Map<string, FunctionJson>;
  /** Every request as `METHOD path` (no query), in order. */
  requests: string[];
  /** The IAM policy of each function, by name. */
  policies: Map<string, { bindings?: { role: string; members: string[] }[]; etag?: string }>;
  /** The next `count` requests answer 503 UNAVAILABLE. */
  failNext(count: number): void;
  close(): Promise<void>;
}

const STATUS: Record<number, string> = { 400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ALREADY_EXISTS", 503: "UNAVAILABLE" };
const FUNCTION = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/functions\/[^/:]+)$/;
const PARENT = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/functions$/;

export async function startFunctionsDouble(options: FunctionsDoubleOptions = {}): Promise<FunctionsDouble> {
  const functions = new Map<string, FunctionJson>();
  const uploads = new Map<string, Buffer | undefined>();
  const operations = new Map<string, Operation>();
  const policies: FunctionsDouble["policies"] = new Map();
  const requests: string[] = [];
  let failing = 0;
  let base = "";

  const deployed = async (fn: FunctionJson): Promise<FunctionJson> => {
    const object = fn.buildConfig?.source?.storageSource?.object;
    const zip = object === undefined ? undefined : uploads.get(object);
    const url = (await options.onDeploy?.(fn, zip)) ?? fn.url ?? defaultUrl(fn.name);
    // A 2nd gen function is served by a Cloud Run service of the same id, whose policy admits callers.
    const service = fn.name.replace("/functions/", "/services/");
    const serviceConfig = { ...fn.serviceConfig, service, uri: url };
    const done = { ...fn, state: "ACTIVE", environment: "GEN_2", url, serviceConfig, updateTime: new Date().toISOString() };
    functions.set(fn.name, done);
    return done;
  };

  const operation = (location: string, result: Operation["result"]) => {
    const op: Operation = { name: `${location}/operations/${randomUUID()}`, polls: 0, result };
    operations.set(op.name, op);
    void result().then(
      (settled) => {
        op.settled = settled;
      },
      (err: Error) => {
        op.settled = { error: { code: 13, message: `deploy failed: ${err.message}` } };
      },
    );
    return { name: op.name, done: false };
  };

  const routes = async (method: string, path: string, query: URLSearchParams, body: unknown): Promise<[number, unknown]> => {
    let m = FUNCTION.exec(path);
    if (m) {
      const name = m[1] as string;
      const found = functions.get(name);
      if (method === "GET") return found ? [200, found] : notFound(name);
      if (!found) return notFound(name);
      const location = name.split("/functions/")[0] as string;
      if (method === "DELETE") {
        functions.delete(name);
        policies.delete(name);
        policies.delete(name.replace("/functions/", "/services/"));
        return [200, operation(location, async () => ({ response: found }))];
      }
      if (method === "PATCH") {
        const patch = body as FunctionJson;
        const merged = applyMask(found, patch, query.get("updateMask"));
        functions.set(name, { ...merged, state: "DEPLOYING" });
        return [200, operation(location, async () => ({ response: await deployed(merged) }))];
      }
    }
    m = PARENT.exec(path);
    if (m) {
      const parent = m[1] as string;
      if (method === "GET")
        return [
          200,
          page(
            [...functions.values()].filter((f) => f.name.startsWith(`${parent}/`)),
            query,
          ),
        ];
      if (method === "POST") {
        const id = query.get("functionId") ?? "";
        if (!/^[a-z][a-z0-9-]{2,61}[a-z0-9]$/.test(id))
          return fail(400, `function_id ${JSON.stringify(id)} is not 4–63 characters of [a-z0-9-]`);
        const name = `${parent}/functions/${id}`;
        if (functions.has(name)) return fail(409, `function ${name} already exists`);
        const fn: FunctionJson = { ...(body as FunctionJson), name, state: "DEPLOYING" };
        functions.set(name, fn);
        return [200, operation(parent, async () => ({ response: await deployed(fn) }))];
      }
    }
    if (method === "POST" && /^\/v2\/projects\/[^/]+\/locations\/[^/]+\/functions:generateUploadUrl$/.test(path)) {
      const object = `${randomUUID()}.zip`;
      uploads.set(object, undefined);
      return [200, { uploadUrl: `${base}/upload/${object}`, storageSource: { bucket: "gcf-v2-uploads-double", object } }];
    }
    m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/operations\/[^/]+)$/.exec(path);
    if (m && method === "GET") return pollOperation(m[1] as string);
    // The client sends IAM calls on the v1 path (the IAM mixin's rules), the v2 API serves both.
    m = /^\/v[12]\/(projects\/[^/]+\/locations\/[^/]+\/functions\/[^/:]+):(getIamPolicy|setIamPolicy)$/.exec(path);
    if (m) {
      const name = m[1] as string;
      if (!functions.has(name)) return notFound(name);
      if (m[2] === "setIamPolicy") policies.set(name, { ...(body as { policy: object }).policy, etag: randomUUID() });
      return [200, policies.get(name) ?? { etag: "ACAB" }];
    }
    // Cloud Run Admin API v2 on the same host: the invoker policy of a function's service.
    m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/services\/[^/:]+):(getIamPolicy|setIamPolicy)$/.exec(path);
    if (m) {
      const name = m[1] as string;
      if (!functions.has(name.replace("/services/", "/functions/"))) return notFound(name);
      if (m[2] === "getIamPolicy" && method !== "GET") return fail(405, "getIamPolicy is a GET");
      if (m[2] === "setIamPolicy") {
        const given = (body as { policy?: { etag?: string } }).policy ?? {};
        const now = policies.get(name) as { etag?: string } | undefined;
        if (given.etag !== undefined && now?.etag !== undefined && given.etag !== now.etag)
          return fail(409, "the policy changed since it was read (etag)");
        policies.set(name, { ...given, etag: randomUUID() });
      }
      return [200, policies.get(name) ?? {}];
    }
    return fail(404, `no such method: ${method} ${path}`);
  };

  const pollOperation = (name: string): [number, unknown] => {
    const op = operations.get(name);
    if (op === undefined) return notFound(name);
    op.polls++;
    if (op.settled === undefined || op.polls < (options.pollsUntilDone ?? 1)) return [200, { name, done: false }];
    const { response, error } = op.settled;
    if (error) return [200, { name, done: true, error }];
    return [
      200,
      { name, done: true, response: { "@type": "type.googleapis.com/google.cloud.functions.v2.Function", ...response } },
    ];
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: Error) =>
      send(res, 500, { error: { code: 500, message: err.message, status: "INTERNAL" } }),
    );
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", base);
    const raw = await readBody(req);
    requests.push(`${req.method} ${url.pathname}`);
    if (failing > 0) {
      failing--;
      return send(res, 503, {
        error: { code: 503, message: "the service is unavailable (a fault of the test)", status: "UNAVAILABLE" },
      });
    }
    if (req.method === "PUT" && url.pathname.startsWith("/upload/")) return upload(req, res, url.pathname.slice(8), raw);
    const body = raw.length > 0 ? (JSON.parse(raw.toString("utf8")) as unknown) : undefined;
    const [status, answer] = await routes(req.method ?? "GET", decodeURIComponent(url.pathname), url.searchParams, body);
    send(res, status, answer);
  };
  const upload = (req: IncomingMessage, res: ServerResponse, object: string, zip: Buffer) => {
    // Google's signed upload URLs refuse credentials and want the zip's content type.
    if (req.headers.authorization !== undefined)
      return send(res, 400, { error: { code: 400, message: "an upload URL takes no Authorization header" } });
    if (req.headers["content-type"] !== "application/zip")
      return send(res, 400, { error: { code: 400, message: "content-type must be application/zip" } });
    if (!uploads.has(object)) return send(res, 404, { error: { code: 404, message: `no upload URL ${object}` } });
    uploads.set(object, zip);
    send(res, 200, {});
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    port,
    functions,
    requests,
    policies,
    failNext(count) {
      failing = count;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function defaultUrl(name: string): string {
  const [, project, , region, , id] = name.split("/");
  return `https://${region}-${project}.cloudfunctions.net/${id}`;
}

/** `found` with the fields `updateMask` names taken from `patch` (snake_case paths), or every field `patch` has. */
function applyMask(found: FunctionJson, patch: FunctionJson, updateMask: string | null): FunctionJson {
  if (!updateMask) return deepMerge(found, patch) as FunctionJson;
  const out = structuredClone(found) as Record<string, unknown>;
  for (const path of updateMask.split(",")) {
    const keys = path.split(".").map((k) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
    let from: unknown = patch;
    let to = out;
    for (const [i, key] of keys.entries()) {
      from = (from as Record<string, unknown> | undefined)?.[key];
      if (i === keys.length - 1) to[key] = structuredClone(from);
      else to = (to[key] ??= {}) as Record<string, unknown>;
    }
  }
  return out as FunctionJson;
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null || Array.isArray(b)) return b ?? a;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(out[k], v);
  return out;
}

function page(all: FunctionJson[], query: URLSearchParams): unknown {
  const size = Math.min(Number(query.get("pageSize") || 100), 1000);
  const start = Number(query.get("pageToken") || 0);
  const functions = all.slice(start, start + size);
  return { functions, ...(start + size < all.length ? { nextPageToken: String(start + size) } : {}) };
}

const fail = (code: number, message: string): [number, unknown] => [
  code,
  { error: { code, message, status: STATUS[code] ?? "UNKNOWN" } },
];
const notFound = (name: string) => fail(404, `${name} not found`);
