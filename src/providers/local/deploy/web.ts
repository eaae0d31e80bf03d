/**
 * Web endpoints of a local deployment: `http://127.0.0.1:<port>/web/<env>/<app>/<function>`.
 * The request becomes one input of the function (no token: a web endpoint is the app's own
 * public surface, on loopback; with `web: { auth: true }` it takes the deployment's token, as
 * the control API does, and answers 401 without it); bodies over the limit are refused with 413, and a thrown error
 * is a 500 whose body holds the stack only when FAASADE_WEB_ERRORS=expose.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { decode, encode } from "../../../core/codec.js";
import { newCallId, newInputId } from "../../../core/ids.js";
import { outcomeError } from "../../../core/outcome.js";
import type { FunctionSpec, Input, Outcome, Provider } from "../../../core/provider.js";
import type { WireRequest, WireResponse } from "../../../core/web.js";
import { HttpError, readBody } from "./wire.js";

export interface WebContext {
  specFor(env: string, app: string, fn: string): FunctionSpec | undefined;
  provider: Provider;
  maxBodyBytes: number;
  /** Whether the request carries the deployment's token (`Authorization: Bearer ...`). */
  hasToken(): boolean;
}

export async function handleWeb(req: IncomingMessage, res: ServerResponse, parts: string[], ctx: WebContext): Promise<void> {
  const [env, app, fn] = parts;
  const spec = env && app && fn ? ctx.specFor(env, app, fn) : undefined;
  if (spec?.options.web === undefined) {
    res.writeHead(404, { "content-type": "text/plain" }).end("no such web endpoint");
    return;
  }
  if (spec.options.web.auth === true && !ctx.hasToken()) {
    res
      .writeHead(401, { "content-type": "text/plain", "www-authenticate": "Bearer" })
      .end("this endpoint requires the deployment's token (FAASADE_HOME/token)");
    return;
  }
  if (req.method !== spec.options.web.method && !(req.method === "HEAD" && spec.options.web.method === "GET")) {
    res.writeHead(405, { "content-type": "text/plain", allow: spec.options.web.method }).end(`use ${spec.options.web.method}`);
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(req, ctx.maxBodyBytes);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 400;
    res
      .writeHead(status, { "content-type": "text/plain", connection: "close" })
      .end(status === 413 ? "request body too large" : "bad request");
    return;
  }
  const headers: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
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
