/**
 * The fault-injecting proxy (../fault-proxy.ts) for the offline Azure backend (a test double, for
 * reliability tests only: not part of `startTestBackend`'s options), in front of azurite's Blob or
 * Queue service or of the Functions host stand-in: Azure Storage's own error documents (503
 * ServerBusy when it throttles or is unavailable, 500 InternalError / OperationTimedOut), the
 * front end's 429 and 503 for a function app, resets, restarts, and Put Message sent twice (a
 * message delivered more than once: Storage Queues deliver at least once).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ProxyFaults, type RefusalKind, startProxy } from "../fault-proxy.js";

export type { FaultCounts, RefusalKind } from "../fault-proxy.js";

export type AzureService = "blob" | "queue" | "functions";

export interface AzureFaultProxy extends ProxyFaults<AzureService> {
  /** Every Put Message for `ms` is also sent `copies` more times, `delaySeconds` later (at-least-once delivery). */
  duplicateSends(o: { ms: number; copies?: number; delaySeconds?: number; ratio?: number }): void;
}

/** Starts a proxy in front of `service` at `upstream` (http://127.0.0.1:port; azurite's URLs name the account first). */
export async function startAzureFaultProxy(upstream: string, service: AzureService): Promise<AzureFaultProxy> {
  let internal = 0;
  const proxy = await startProxy<AzureService>(upstream, service, {
    classify: (req) => ({ service, op: service === "blob" ? blobOp(req) : service === "queue" ? queueOp(req) : functionOp(req) }),
    // Azure answers its internal errors as InternalError or, past its own deadline, OperationTimedOut: in turn.
    writeRefusal: (res, _service, kind, head) => {
      if (service === "functions") return writeFrontEndRefusal(res, kind, head);
      writeStorageRefusal(res, kind === "internal" && internal++ % 2 === 1 ? "timedOut" : kind, head);
    },
    // A request is signed (Shared Key covers its target and headers): a later copy is held, not rewritten.
    holdsCopies: true,
    // azurite keeps idle connections 5 s: kept 4 s here, a burst of requests does not open one each.
    ...(service === "functions" ? {} : { keepAliveMs: 4000 }),
  });
  return {
    ...proxy,
    duplicateSends: (o) => proxy.duplicate({ ...o, services: ["queue"], ops: /^Put Message$/ }),
  };
}

/** The request's path segments past the account (azurite's URLs are path-style: /<account>/<container>/<blob>). */
function segments(url: URL): string[] {
  return url.pathname.split("/").slice(2).map(decodeURIComponent);
}

/** The first segment of a key, past the "faasade/" of a shared container (src/cloud/keys.ts). */
const areaOf = (key: string) => key.replace(/^faasade\//, "").split("/")[0] ?? "";

const BLOB_OPS: Record<string, string> = {
  "PUT ": "Put Blob",
  "GET ": "Get Blob",
  "HEAD ": "Get Blob Properties",
  "DELETE ": "Delete Blob",
  "PUT block": "Put Block",
  "PUT blocklist": "Put Block List",
  "GET metadata": "Get Blob Metadata",
  "PUT properties": "Set Blob Properties",
};

/**
 * A Blob request as `<REST operation> <area>`: `Put Blob results`, `Get Blob payloads`,
 * `Get Blob Properties results`, `List Blobs map-results`, `Delete Blob chunks`; container and
 * account requests by their operation alone (`Create Container`, `List Containers`).
 */
function blobOp(req: IncomingMessage): string {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const method = req.method ?? "GET";
  const comp = url.searchParams.get("comp") ?? "";
  const [container, ...blob] = segments(url);
  if (container === undefined || container === "")
    return comp === "list" ? "List Containers" : `${method} account ${comp}`.trim();
  if (blob.length === 0 || blob.join("/") === "") {
    if (comp === "list") return `List Blobs ${areaOf(url.searchParams.get("prefix") ?? "")}`;
    const op = {
      PUT: "Create Container",
      DELETE: "Delete Container",
      GET: "Get Container Properties",
      HEAD: "Get Container Properties",
    }[method];
    return op ?? `${method} container ${comp}`.trim();
  }
  return `${BLOB_OPS[`${method} ${comp}`] ?? `${method} blob ${comp}`.trim()} ${areaOf(blob.join("/"))}`;
}

/**
 * A Queue request as its REST operation: `Put Message`, `Get Messages`, `Peek Messages`,
 * `Delete Message`, `Update Message`, `Clear Messages`, `Get Queue Metadata`, `Create Queue`, ...
 */
function queueOp(req: IncomingMessage): string {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const method = req.method ?? "GET";
  const comp = url.searchParams.get("comp") ?? "";
  const [queue, messages, id] = segments(url);
  if (queue === undefined || queue === "") return comp === "list" ? "List Queues" : `${method} account ${comp}`.trim();
  if (messages !== "messages") {
    if (comp === "metadata") return method === "PUT" ? "Set Queue Metadata" : "Get Queue Metadata";
    return { PUT: "Create Queue", DELETE: "Delete Queue" }[method] ?? `${method} queue ${comp}`.trim();
  }
  if (id === undefined || id === "") {
    if (method === "GET") return url.searchParams.get("peekonly") === "true" ? "Peek Messages" : "Get Messages";
    return { POST: "Put Message", DELETE: "Clear Messages" }[method] ?? `${method} messages`;
  }
  return { DELETE: "Delete Message", PUT: "Update Message" }[method] ?? `${method} message`;
}

/** A request to a function app: a call of faasade's route (streamed when it asks for NDJSON), or another request. */
function functionOp(req: IncomingMessage): string {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (req.method !== "POST" || !/(^|\/)faasade$/.test(path)) return "other";
  return String(req.headers.accept ?? "").includes("application/x-ndjson") ? "stream" : "call";
}

const STORAGE_REFUSALS = {
  throttle: [503, "ServerBusy", "Operations per second is over the account limit."],
  unavailable: [503, "ServerBusy", "The server is currently unable to receive requests. Please retry your request."],
  internal: [500, "InternalError", "The server encountered an internal error. Please retry the request."],
  timedOut: [500, "OperationTimedOut", "The operation could not be completed within the permitted time."],
} as const;

/** Azure Storage's answer: its XML error document, the code in `x-ms-error-code` too (a HEAD has only the header). */
function writeStorageRefusal(res: ServerResponse, kind: keyof typeof STORAGE_REFUSALS, head: boolean): void {
  const requestId = randomUUID();
  const [status, code, message] = STORAGE_REFUSALS[kind];
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message></Error>`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "x-ms-error-code": code,
    "x-ms-request-id": requestId,
    ...(head ? {} : { "content-length": String(Buffer.byteLength(body)) }),
  });
  res.end(head ? undefined : body);
}

/**
 * The front end of a function app: 429 when no instance can take the request (Flex Consumption's
 * concurrency and scale limits), 503 while the app is unavailable, 500 for an internal error; a
 * short HTML page, as it answers.
 */
function writeFrontEndRefusal(res: ServerResponse, kind: RefusalKind, head: boolean): void {
  const [status, title] =
    kind === "throttle"
      ? [429, "Too Many Requests"]
      : kind === "unavailable"
        ? [503, "Service Unavailable"]
        : [500, "Internal Server Error"];
  const body = `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${status} ${title}</h1><p>A fault of the test proxy.</p></body></html>`;
  res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  res.end(head ? undefined : body);
}
