/**
 * Web endpoints of a local deployment: `http://127.0.0.1:<port>/web/<env>/<app>/<function>`.
 * The request becomes one input of the function (no token: a web endpoint is the app's own
 * public surface, on loopback) unless the function has `web: { auth: true }`, which asks for the
 * deployment token as the control API does; bodies over the limit are refused with 413, and a
 * thrown error is a 500 whose body holds the stack only when FAASADE_WEB_ERRORS=expose. Any
 * failure here is this request's answer alone.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { decode, encode } from "../../../core/codec.js";
import { newCallId, newInputId } from "../../../core/ids.js";
import { outcomeError } from "../../../core/outcome.js";
import type { FunctionSpec, Input, Outcome, Provider } from "../../../core/provider.js";
import type { WireRequest, WireResponse } from "../../../core/web.js";
import { HttpError, pathSegments, readBody } from "./wire.js";

export interface WebContext {
  specFor(env: string, app: string, fn: string): FunctionSpec | undefined;
  provider: Provider;
  maxBodyBytes: number;
  /** Whether an `authorization` header carries the deployment token. */
  accepts(authorization: string | undefined): boolean;
}

/** A request to `/web/...` (`pathname` undecoded). */
export async function handleWeb(req: IncomingMessage, res: ServerResponse, pathname: string, ctx: WebContext): Promise<void> {
  try {
    await serveWeb(req, res, pathSegments(pathname).slice(1), ctx);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 500;
    if (status === 500) console.error("faasade: a web request failed:", err);
    if (res.headersSent) res.destroy();
    else res.writeHead(status, { "content-type": "text/plain" }).end(status === 500 ? "internal error" : (err as Error).message);
  }
}

async function serveWeb(req: IncomingMessage, res: ServerResponse, parts: string[], ctx: WebContext): Promise<void> {
  const [env, app, fn] = parts;
  const spec = env && app && fn ? ctx.specFor(env, app, fn) : undefined;
  if (spec?.options.web === undefined) {
    res.writeHead(404, { "content-type": "text/plain" }).end("no such web endpoint");
    return;
  }
  if (req.method !== spec.options.web.method && !(req.method === "HEAD" && spec.options.web.method === "GET")) {
    res.writeHead(405, { "content-type": "text/plain", allow: spec.options.web.method }).end(`use ${spec.options.web.method}`);
    return;
  }
  if (spec.options.web.auth && !ctx.accepts(req.headers.authorization)) {
    res
      .writeHead(401, { "content-type": "text/plain", "www-authenticate": "Bearer" })
      .end("this endpoint requires the deployment token (FAASADE_HOME/token) as a Bearer token");
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req, ctx.maxBodyBytes);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 400;
    res
      .writeHead(status, { "content-type": "text/plain", connection: "close" })
      .end(status === 413 ? "request body too large" : `bad request: ${(err as Error).message}`);
    return;
  }
  const headers: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    // The deployment token that let the request in is not the function's to see (nor to log).
    if (spec.options.web.auth && name.toLowerCase() === "authorization") continue;
    headers.push([name, req.rawHeaders[i + 1] as string]);
  }
  const request: WireRequest = {
    method: req.method ?? "GET",
    url: `http://${req.headers.host ?? "127.0.0.1"}${req.url ?? "/"}`,
    headers,
    body: body.length > 0 ? new Uint8Array(body) : undefined,
  };
  const input: Input = { inputId: newInputId(), callId: newCallId(), attempt: 1, args: encode([request], "args") };
  const outcome = await new Promise<Outcome>((resolve) => {
    ctx.provider.submit(spec, [input], { outcome: (_, o) => resolve(o), chunk: () => {} });
  });
  if (outcome.status === "SUCCESS") {
    const response = decode(outcome.value as Uint8Array) as WireResponse;
    res.writeHead(response.status, response.headers.flat());
    res.end(response.body);
    return;
  }
  const error = outcomeError(spec.name, outcome);
  const expose = process.env.FAASADE_WEB_ERRORS === "expose";
  res.writeHead(outcome.status === "TIMEOUT" ? 504 : 500, { "content-type": "text/plain" });
  res.end(expose ? `${error.stack ?? error.message}\n${(error.cause as Error | undefined)?.stack ?? ""}` : "internal error");
}
