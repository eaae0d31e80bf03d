/**
 * A web function run as one input, whatever serves it: given the Web `Request`, it runs with its own ids,
 * `currentInput()` and the attempt's timeout, and answers a Web `Response` whose body ends at the deadline
 * if it is still streaming then (the caller sees it cut off); a failure is a 500 (a 504 past the timeout),
 * its message only when errors are exposed. A runtime adapter only turns its platform's request into a Web
 * `Request` and writes the `Response` back (node-web.ts for Node's http, src/providers/azure/web-serve.ts).
 */
import { InputContext, inputStorage } from "../core/context.js";
import type { Function_ } from "../core/function.js";
import { newCallId, newInputId } from "../core/ids.js";
import { attemptDeadline } from "./run-input.js";

type WebFn = (request: Request) => Response | Promise<Response>;
type Deadline = ReturnType<typeof attemptDeadline>;

const plain = (status: number, text: string) =>
  new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/** Runs `handle` on `request`; `onContext` is given the input's context as it starts (to abort it when the caller leaves). */
export async function runWebFunction(
  handle: Function_,
  request: () => Request,
  exposeErrors: boolean,
  onContext: (ctx: InputContext) => void = () => {},
): Promise<Response> {
  const { spec } = handle.definition();
  const raw = handle.getRawF() as WebFn;
  const ctx = new InputContext(newInputId(), newCallId(), 1);
  onContext(ctx);
  const deadline = attemptDeadline(ctx, spec.options.timeoutMs);
  const failed = (err: unknown) => plain(500, exposeErrors ? String((err as Error)?.message ?? err) : "internal error");
  let streaming = false;
  try {
    const answer = await Promise.race([inputStorage.run(ctx, async () => raw(request())), deadline.timedOut]);
    if (answer === "timeout") return plain(504, `function ${JSON.stringify(spec.name)} timed out`);
    if (!(answer instanceof Response)) {
      const got = answer === null ? "null" : typeof answer;
      return failed(new TypeError(`a web function must return a Response, got ${got}`));
    }
    if (answer.body === null) return answer;
    streaming = true;
    return new Response(boundedBody(answer.body, deadline), { status: answer.status, headers: answer.headers });
  } catch (err) {
    return failed(err);
  } finally {
    if (!streaming) deadline.clear();
  }
}

/** The body, ended with an error by the attempt's deadline if it is still running then; the deadline cleared once it ends. */
function boundedBody(body: ReadableStream<Uint8Array>, deadline: Deadline): ReadableStream<Uint8Array> {
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
