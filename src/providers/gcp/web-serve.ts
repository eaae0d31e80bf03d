/**
 * A web function behind functions-framework: Express's request becomes a Web `Request` (a body
 * the framework did not read is streamed in), the function runs as one input (its own ids,
 * `currentInput()`, the attempt's timeout), and its `Response` is written back as it is produced,
 * chunk by chunk, so that server-sent events and long downloads stream.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Request as FfRequest, Response as FfResponse } from "@google-cloud/functions-framework";
import { InputContext, inputStorage } from "../../core/context.js";
import { InputCancelledError } from "../../core/errors.js";
import type { Function_ } from "../../core/function.js";
import { newCallId, newInputId } from "../../core/ids.js";
import { attemptDeadline } from "../../cloud/run-input.js";

type WebFn = (request: Request) => Response | Promise<Response>;

/** The Web Request a function is given: the URL as the caller saw it, its headers, its body. */
export function webRequestOf(req: FfRequest): Request {
  const url = `${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method.toUpperCase();
  if (method === "GET" || method === "HEAD") return new Request(url, { method, headers });
  // functions-framework has read the bodies of the types it parses (rawBody); any other is still unread.
  const read = req.rawBody ?? (Buffer.isBuffer(req.body) ? req.body : undefined);
  if (read !== undefined) return new Request(url, { method, headers, body: new Uint8Array(read) });
  if (req.readableEnded) return new Request(url, { method, headers });
  const body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
  return new Request(url, { method, headers, body, duplex: "half" } as RequestInit);
}

const plain = (res: FfResponse, status: number, text: string) => {
  if (res.headersSent) res.destroy();
  else res.status(status).type("text/plain").send(text);
};

/** Serves one request with a web function; a failure is a 500 (504 past the timeout), its details only when exposed. */
export async function serveWeb(req: FfRequest, res: FfResponse, handle: Function_, exposeErrors: boolean): Promise<void> {
  const { spec } = handle.definition();
  const raw = handle.getRawF() as WebFn;
  const ctx = new InputContext(newInputId(), newCallId(), 1);
  res.on("close", () => {
    if (!res.writableFinished) ctx.abort(new InputCancelledError("the caller went away"));
  });
  const deadline = attemptDeadline(ctx, spec.options.timeoutMs);
  const failed = (err: unknown) => plain(res, 500, exposeErrors ? String((err as Error)?.message ?? err) : "internal error");
  try {
    const answer = await Promise.race([inputStorage.run(ctx, async () => raw(webRequestOf(req))), deadline.timedOut]);
    if (answer === "timeout") return plain(res, 504, `function ${JSON.stringify(spec.name)} timed out`);
    if (!(answer instanceof Response)) {
      const got = answer === null ? "null" : typeof answer;
      return failed(new TypeError(`a web function must return a Response, got ${got}`));
    }
    res.status(answer.status);
    for (const [name, value] of answer.headers) res.append(name, value);
    if (answer.body === null) {
      res.end();
      return;
    }
    const body = Readable.fromWeb(answer.body as import("node:stream/web").ReadableStream<Uint8Array>);
    await Promise.race([
      pipeline(body, res),
      deadline.timedOut.then(() => Promise.reject(new Error("timed out while streaming"))),
    ]);
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
