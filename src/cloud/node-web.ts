/**
 * A web function served over node's http (any framework on it: functions-framework's Express):
 * the request becomes a Web `Request` (a body not read yet is streamed in), the function runs as
 * one input (its own ids, `currentInput()`, the attempt's timeout), and its `Response` is
 * written back as it is produced, chunk by chunk, so that server-sent events and long downloads stream.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { InputContext, inputStorage } from "../core/context.js";
import { InputCancelledError } from "../core/errors.js";
import type { Function_ } from "../core/function.js";
import { newCallId, newInputId } from "../core/ids.js";
import { attemptDeadline } from "./run-input.js";

type WebFn = (request: Request) => Response | Promise<Response>;

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

const plain = (res: ServerResponse, status: number, text: string) => {
  if (res.headersSent) res.destroy();
  else res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(text);
};

/** Serves one request with a web function; a failure is a 500 (504 past the timeout), its details only when exposed. */
export async function serveWebFunction(
  req: IncomingMessage,
  res: ServerResponse,
  handle: Function_,
  options: NodeWebOptions,
): Promise<void> {
  const { spec } = handle.definition();
  const raw = handle.getRawF() as WebFn;
  const ctx = new InputContext(newInputId(), newCallId(), 1);
  res.on("close", () => {
    if (!res.writableFinished) ctx.abort(new InputCancelledError("the caller went away"));
  });
  const deadline = attemptDeadline(ctx, spec.options.timeoutMs);
  const failed = (err: unknown) =>
    plain(res, 500, options.exposeErrors ? String((err as Error)?.message ?? err) : "internal error");
  try {
    const request = () => raw(webRequestOf(req, options.url, options.readBody));
    const answer = await Promise.race([inputStorage.run(ctx, async () => request()), deadline.timedOut]);
    if (answer === "timeout") return plain(res, 504, `function ${JSON.stringify(spec.name)} timed out`);
    if (!(answer instanceof Response)) {
      const got = answer === null ? "null" : typeof answer;
      return failed(new TypeError(`a web function must return a Response, got ${got}`));
    }
    res.statusCode = answer.status;
    for (const [name, value] of answer.headers) res.appendHeader(name, value);
    if (answer.body === null) {
      res.end();
      return;
    }
    const body = Readable.fromWeb(answer.body as NodeReadableStream<Uint8Array>);
    const timedOut = deadline.timedOut.then(() => Promise.reject(new Error("timed out while streaming")));
    await Promise.race([pipeline(body, res), timedOut]);
  } catch (err) {
    failed(err); // once the answer has begun, its connection is cut: the caller sees it incomplete
  } finally {
    deadline.clear();
    // A body the function left unread would hold the connection (the next request on it waits, then is reset): drain it.
    if (!req.readableEnded) {
      req.removeAllListeners("data");
      req.resume();
    }
  }
}
