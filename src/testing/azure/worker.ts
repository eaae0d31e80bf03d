/**
 * One instance of a function app, as the Functions host's Node worker runs it (a test double): a process of
 * its own that installs the `@azure/functions-core` stand-in, loads the faasade runtime beside the app's
 * module (FAASADE_AZURE_MODULE), registers, and serves the captured registrations on 127.0.0.1 for the host
 * stand-in (function-host.ts), which it tells its port and the registrations' metadata:
 * - `POST /.host/http/<function>`: the caller's request, its URL in `x-faasade-url` and its route
 *   parameters in `x-faasade-params` (base64 JSON); the function's answer is written back as it comes.
 * - `POST /.host/queue/<function>`: one queue message's text, its facts in `x-faasade-message`; 200 when the
 *   handler returned, 500 when it threw.
 * Its store and queue are the deployed runtime's (from the environment), or those of the module named by
 * FAASADE_AZURE_PLATFORM (exporting `store(container)` and `queue(name)`).
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { RuntimeOptions } from "../../providers/azure/runtime.js";
import { readAll } from "../instance-forward.js";
import { type RegisteredFunction, type Registration, installFunctionsCore } from "./functions-core.js";
import { type QueueFacts, invokeHttp, invokeQueue } from "./invocations.js";

const moduleUrl = process.env.FAASADE_AZURE_MODULE;
if (moduleUrl === undefined) throw new Error("faasade: an instance needs FAASADE_AZURE_MODULE (the app's module URL)");

const core = installFunctionsCore();
const runtime = await import("../../providers/azure/runtime.js");
const load = () => import(moduleUrl);
runtime.appModule(load);
// As a deployed bundle imports the app statically: a failure is kept by appModule (INIT_FAILURE).
await load().catch(() => {});
const platformUrl = process.env.FAASADE_AZURE_PLATFORM;
const platform: Partial<RuntimeOptions> = platformUrl ? await import(platformUrl) : {};
runtime.registerFaasade(platform);

const plain = (res: ServerResponse, status: number, body: string): void =>
  void res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(body);

const header = (req: IncomingMessage, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
};

/** The caller's headers, without the host's own. */
function callerHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith("x-faasade-") || name === "connection" || name === "keep-alive") continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

async function serveHttp(r: Registration, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readAll(req);
  const url = header(req, "x-faasade-url") ?? `http://127.0.0.1${req.url}`;
  const params = JSON.parse(Buffer.from(header(req, "x-faasade-params") ?? "", "base64").toString("utf8") || "{}") as Record<
    string,
    string
  >;
  let answer: Awaited<ReturnType<typeof invokeHttp>>;
  try {
    answer = await invokeHttp(r, { method: req.method ?? "GET", url, headers: callerHeaders(req), body, params });
  } catch (err) {
    // The host answers a function's failure with a 500, its details only in the logs.
    console.error(`faasade: function ${r.name} failed:`, err);
    return plain(res, 500, "");
  }
  res.statusCode = answer.status;
  for (const [name, value] of answer.headers) res.appendHeader(name, value);
  if (answer.body === null) return void res.end();
  await pipeline(Readable.fromWeb(answer.body as NodeReadableStream<Uint8Array>), res).catch(() => res.destroy());
}

async function serveQueue(r: Registration, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const text = (await readAll(req)).toString("utf8");
  const facts = JSON.parse(header(req, "x-faasade-message") ?? "{}") as QueueFacts;
  try {
    await invokeQueue(r, text, facts);
  } catch (err) {
    return plain(res, 500, String((err as Error)?.message ?? err));
  }
  plain(res, 200, "done");
}

const server = createServer((req, res) => {
  const [, dot, kind, name = ""] = (req.url ?? "/").split("?")[0]?.split("/") ?? [];
  const r = core.functions.get(decodeURIComponent(name));
  if (dot !== ".host" || r === undefined) return plain(res, 404, `no function ${JSON.stringify(name)} in this instance`);
  const served = kind === "queue" ? serveQueue(r, req, res) : serveHttp(r, req, res);
  served.catch((err: unknown) => {
    if (!res.headersSent) plain(res, 500, String((err as Error)?.message ?? err));
    else res.destroy();
  });
});
// The host keeps its connections to an instance open: an instance closing an idle one on its own
// clock could meet a request the host was writing to it, lost with the connection.
server.keepAliveTimeout = 0;
server.requestTimeout = 0;
server.listen(0, "127.0.0.1", () => {
  const functions: RegisteredFunction[] = [...core.functions.values()].map((r) => ({ name: r.name, trigger: r.trigger }));
  process.send?.({ port: (server.address() as AddressInfo).port, functions });
});
// The host going away ends the instance, as the platform would.
process.on("disconnect", () => process.exit(0));
