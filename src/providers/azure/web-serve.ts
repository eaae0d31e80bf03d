/**
 * A web function behind the Functions host: the `@azure/functions` request becomes a Web `Request` (its
 * body streamed in), the function runs as one input (its own ids, `currentInput()`, the attempt's timeout),
 * and its `Response` is handed back with its body as a stream, which the host passes on as it is produced
 * (`enableHttpStream`), so that server-sent events and long downloads stream. Past the timeout: a 504, or
 * an answer cut off once it had begun.
 */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { attemptDeadline } from "../../cloud/run-input.js";
import { InputContext, inputStorage } from "../../core/context.js";
import type { Function_ } from "../../core/function.js";
import { newCallId, newInputId } from "../../core/ids.js";

type WebFn = (request: Request) => Response | Promise<Response>;

const plain = (status: number, body: string): HttpResponseInit => ({
  status,
  headers: { "content-type": "text/plain; charset=utf-8" },
  body,
});

function webRequestOf(request: HttpRequest): Request {
  const method = request.method.toUpperCase();
  const headers = new Headers(request.headers);
  if (method === "GET" || method === "HEAD" || request.body === null) return new Request(request.url, { method, headers });
  return new Request(request.url, { method, headers, body: request.body, duplex: "half" } as RequestInit);
}

/** The body, ended by the attempt's deadline if it is still running then; the deadline cleared once it ends. */
function boundedBody(body: ReadableStream<Uint8Array>, deadline: ReturnType<typeof attemptDeadline>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let over = false;
  const finish = () => {
    if (over) return;
    over = true;
    deadline.clear();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await Promise.race([reader.read(), deadline.timedOut]);
      if (next === "timeout") {
        finish();
        void reader.cancel().catch(() => {});
        return controller.error(new Error("timed out while streaming"));
      }
      if (next.done) {
        finish();
        return controller.close();
      }
      controller.enqueue(next.value);
    },
    async cancel(reason) {
      finish();
      await reader.cancel(reason).catch(() => {});
    },
  });
}

export async function serveWeb(request: HttpRequest, handle: Function_, exposeErrors: boolean): Promise<HttpResponseInit> {
  const { spec } = handle.definition();
  const raw = handle.getRawF() as WebFn;
  const ctx = new InputContext(newInputId(), newCallId(), 1);
  const deadline = attemptDeadline(ctx, spec.options.timeoutMs);
  const failed = (err: unknown) => plain(500, exposeErrors ? String((err as Error)?.message ?? err) : "internal error");
  let streaming = false;
  try {
    const answer = await Promise.race([inputStorage.run(ctx, async () => raw(webRequestOf(request))), deadline.timedOut]);
    if (answer === "timeout") return plain(504, `function ${JSON.stringify(spec.name)} timed out`);
    if (!(answer instanceof Response)) {
      const got = answer === null ? "null" : typeof answer;
      return failed(new TypeError(`a web function must return a Response, got ${got}`));
    }
    const headers = new Headers(answer.headers);
    if (answer.body === null) return { status: answer.status, headers };
    streaming = true;
    return { status: answer.status, headers, body: boundedBody(answer.body, deadline) };
  } catch (err) {
    return failed(err);
  } finally {
    if (!streaming) deadline.clear();
  }
}
