/**
 * The dashboard over HTTP, for any DashboardSource: JSON under /dashboard/api, the live feed at
 * /dashboard/api/events, behind auth.ts. Every failure is this request's answer (JSON
 * `{error}` with its status), never the server's end.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { InvalidError, NotFoundError } from "../core/errors.js";
import { type TokenCheck, authorize } from "./auth.js";
import { serveEvents } from "./events.js";
import { isPage, sendAsset, sendShell } from "./pages.js";
import { DashboardHttpError, checkCallId, checkCallQuery, checkKeepWarm, checkRef, checkWatched } from "./params.js";
import type { DashboardSource } from "./source.js";

const BODY_BYTES = 64 * 1024;

export type DashboardHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export function dashboardHandler(source: DashboardSource, accepts: TokenCheck): DashboardHandler {
  return async (req, res, url) => {
    try {
      if (authorize(req, res, url, accepts)) return;
      await route(req, res, url, source);
    } catch (err) {
      answerError(res, err);
    }
  };
}

async function route(req: IncomingMessage, res: ServerResponse, url: URL, source: DashboardSource): Promise<void> {
  const method = req.method ?? "GET";
  const parts = url.pathname.split("/").filter(Boolean).map(decodePart);
  const json = (value: unknown) => sendJson(res, 200, value);
  const [, api, area, a, b, c, d] = parts;
  if (method === "GET" && isPage(parts)) return sendShell(res);
  if (method === "GET" && api === "assets" && parts.length === 3 && sendAsset(res, area)) return;
  if (api !== "api") throw new DashboardHttpError(404, `no dashboard page ${url.pathname.slice(0, 200)}`);
  if (area === "events" && a === undefined && method === "GET")
    return serveEvents(req, res, source, checkWatched(url.searchParams));
  if (area === "apps" && a === undefined && method === "GET") return json({ apps: await source.apps() });
  if (area === "stats" && a === undefined && method === "GET") return json({ stats: await source.stats() });
  if (area === "apps" && a !== undefined && b !== undefined && c !== undefined) {
    const ref = checkRef(a, b, c);
    if (d === "calls" && method === "GET") return json(await source.calls(ref, checkCallQuery(url.searchParams)));
    if (d === "keep-warm" && method === "POST") {
      const n = checkKeepWarm(await readJson(req));
      return json({ autoscaler: await source.keepWarm(ref, n) });
    }
  }
  if (area === "calls" && a !== undefined) {
    const id = checkCallId(a);
    if (b === undefined && method === "GET") {
      const call = await source.call(id);
      if (call === undefined) throw new DashboardHttpError(404, `no call ${id} in this deployment`);
      return json(call);
    }
    if (b === "cancel" && method === "POST") return json({ cancelled: await source.cancel(id) });
    if (b === "run-again" && method === "POST") return json({ functionCallId: await source.runAgain(id) });
  }
  throw new DashboardHttpError(404, `no dashboard route ${method} ${url.pathname.slice(0, 200)}`);
}

function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new DashboardHttpError(400, `malformed path segment ${JSON.stringify(part.slice(0, 100))}`);
  }
}

/** A small JSON body; an empty one is `{}`. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > BODY_BYTES) throw new DashboardHttpError(413, `a dashboard request body is at most ${BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DashboardHttpError(400, `the request body is not JSON: ${(err as Error).message}`);
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(value));
}

function answerError(res: ServerResponse, err: unknown): void {
  const status =
    err instanceof DashboardHttpError ? err.status : err instanceof InvalidError ? 400 : err instanceof NotFoundError ? 404 : 500;
  if (status === 500) console.error("faasade: a dashboard request failed:", err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: (err as Error)?.message ?? String(err) });
}
