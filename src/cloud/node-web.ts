/**
 * A web function served over node's http (any framework on it: functions-framework's Express):
 * the request becomes a Web `Request` (a body not read yet is streamed in), the function runs as
 * one input (web-function.ts), and its `Response` is written back as it is produced, chunk by
 * chunk, so that server-sent events and long downloads stream.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { InputContext } from "../core/context.js";
import { InputCancelledError } from "../core/errors.js";
import type { Function_ } from "../core/function.js";
import { runWebFunction } from "./web-function.js";

export interface NodeWebOptions {
  /** The URL as the caller saw it. */
  url: string;
  /** The body, where a framework has read it already. */
  readBody?: Uint8Array | undefined;
  /** Whether a failure's message is its 500's body (else "internal error"). */
  exposeErrors: boolean;
}

/** The Web Request a function is given: the URL, the headers, the body. */
export function webRequestOf(req: IncomingMessage, url: string, readBody?: Uint8Array): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = (req.method ?? "GET").toUpperCase();
  if (method === "GET" || method === "HEAD") return new Request(url, { method, headers });
  if (readBody !== undefined) return new Request(url, { method, headers, body: new Uint8Array(readBody) });
  if (req.readableEnded) return new Request(url, { method, headers });
  const body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
  return new Request(url, { method, headers, body, duplex: "half" } as RequestInit);
}

/** Serves one request with a web function (web-function.ts), its Response written back chunk by chunk as it is produced. */
export async function serveWebFunction(
  req: IncomingMessage,
  res: ServerResponse,
  handle: Function_,
  options: NodeWebOptions,
): Promise<void> {
  const abortOnClose = (ctx: InputContext) =>
    res.on("close", () => {
      if (!res.writableFinished) ctx.abort(new InputCancelledError("the caller went away"));
    });
  try {
    const request = () => webRequestOf(req, options.url, options.readBody);
    const answer = await runWebFunction(handle, request, options.exposeErrors, abortOnClose);
    res.statusCode = answer.status;
    for (const [name, value] of answer.headers) res.appendHeader(name, value);
    if (answer.body === null) {
      res.end();
      return;
    }
    await pipeline(Readable.fromWeb(answer.body as NodeReadableStream<Uint8Array>), res);
  } catch {
    res.destroy(); // the answer had begun: its connection is cut, and the caller sees it incomplete
  } finally {
    // A body the function left unread would hold the connection (the next request on it waits, then is reset): drain it.
    if (!req.readableEnded) {
      req.removeAllListeners("data");
      req.resume();
    }
  }
}
