/**
 * @module
 * faasade/gcp/runtime: the Cloud Functions (2nd gen) side, a thin adapter around the cloud
 * layer's runtime (src/cloud/). Bundle it beside the app's module, load that module through
 * `appModule` (an import failure then answers INIT_FAILURE instead of an instance that cannot
 * start), and call `registerFaasade(...)`: it registers one functions-framework HTTP function
 * (entry point `faasade`) that serves, by request:
 * - a web function's requests, when the deployment's function (`FAASADE_APP`,
 *   `FAASADE_ENVIRONMENT`, `FAASADE_FUNCTION`) is a web function: every request, whatever its
 *   method or body, so that a public URL never runs an envelope;
 * - a task from Cloud Tasks (`x-cloudtasks-taskname`): the body is the queued envelope, run by
 *   the cloud consumer; answered 2xx once its outcome (or its retry) is stored;
 * - a streamed call (`accept: application/x-ndjson`, generators): one JSON line per yielded
 *   value, each flushed as it comes, then the outcome;
 * - any other POST: a synchronous call, the envelope in, its outcome (`InvokeAnswer`) out.
 *
 * Cloud Tasks delivers again any task not answered 2xx (deploy/queue.ts: redeliveries, never
 * the function's retries, which faasade queues as new tasks). So a task is answered:
 * - 200 when its delivery is over: the outcome or retry stored, a duplicate of a finished or
 *   retried attempt (nothing is run again), or a body that can never run (logged, dropped);
 * - 503 when it is not done: handed back because another delivery may still be running the
 *   same attempt, or the store or queue kept refusing; the attempt lease
 *   (src/cloud/attempt-lease.ts) decides on the next delivery, as on any queue.
 * An instance stuck in busy code past an input's timeout is ended (src/cloud/watchdog.ts), and a
 * `process.exit` in user code answers the calls in flight with its code (src/cloud/exits.ts).
 */
import { randomBytes } from "node:crypto";
import type { Server } from "node:net";
import { http } from "@google-cloud/functions-framework";
import type { Request as FfRequest, Response as FfResponse, HttpFunction } from "@google-cloud/functions-framework";
import { answerOnExit } from "../../cloud/exits.js";
import { STREAM_TYPE } from "../../cloud/http-invoker.js";
import {
  type TextAnswer,
  callAnswer,
  callEnvelope,
  deliveryAnswer,
  deployedWebFunction,
  isAnswer,
  rememberedPlatform,
} from "../../cloud/http-runtime.js";
import { exitAnswer, streamInvoke } from "../../cloud/invoked.js";
import type { ObjectStore, Queue } from "../../cloud/primitives.js";
import { watchBlockedInputs } from "../../cloud/watchdog.js";
import { InvalidError } from "../../core/errors.js";
import { provideModule } from "../../core/providers.js";
import { deployedPlatform } from "./deployed.js";
import { CALL_INLINE_BYTES } from "./invoker.js";
import { gcpProvider } from "./platform.js";
import { serveWeb } from "./web-serve.js";

// Calls made inside a function go to this cloud (FAASADE_PROVIDER=gcp there), also from a bundle:
// the project, region, prefix and retention come from the variables deploy sets.
provideModule("gcp", { defaultProvider: () => gcpProvider({}) });

export { appModule } from "../../cloud/run-input.js";
export type { InvokeAnswer } from "../../cloud/wire.js";

/** The header Cloud Tasks sets on every task it dispatches (and strips from other requests). */
export const TASK_HEADER = "x-cloudtasks-taskname";

export interface RuntimeOptions {
  /** The object store of a bucket an envelope names (Cloud Storage). @default gcsStore, as deployed (deployed.ts) */
  store?(bucket: string): ObjectStore;
  /** The queue an envelope's spawn target names (a Cloud Tasks queue path). @default tasksQueue, as deployed (deployed.ts) */
  queue?(name: string): Queue;
  /** The registered function's name, the deployment's entry point. @default "faasade" */
  entryPoint?: string | undefined;
}

export interface Handlers {
  /** Every kind of request, told apart as the module's documentation says. */
  handler: HttpFunction;
  /** Synchronous calls only. */
  invoke: HttpFunction;
  /** Streamed calls only (generators). */
  stream: HttpFunction;
  /** Cloud Tasks deliveries only. */
  task: HttpFunction;
}

/** This instance, as outcomes name where they ran. */
const INSTANCE = `${process.env.K_REVISION ?? "gcf"}/${randomBytes(4).toString("hex")}`;

export function handlers(options: RuntimeOptions): Handlers {
  const platform = rememberedPlatform({ ...deployedPlatform(), ...options } as Required<RuntimeOptions>);
  const invoke = guarded(async (req, res) => {
    const e = callEnvelope(req.method, () => bodyOf(req));
    if (isAnswer(e)) return send(res, e);
    const reply = (answer: unknown) => res.status(200).type("application/json").send(JSON.stringify(answer));
    // Closing: the caller's next request must not reuse a connection to an instance that is gone.
    const exiting = answerOnExit((code) => {
      res.set("connection", "close");
      reply(exitAnswer(e, code, INSTANCE));
    }, serverOf(req));
    const answer = await callAnswer(e, platform.store, INSTANCE, CALL_INLINE_BYTES).finally(exiting);
    reply(answer);
  });
  const stream = guarded(async (req, res) => {
    const e = callEnvelope(req.method, () => bodyOf(req));
    if (isAnswer(e)) return send(res, e);
    res.status(200).type(STREAM_TYPE);
    res.flushHeaders();
    const exiting = answerOnExit((code) => res.end(`${JSON.stringify({ o: exitAnswer(e, code, INSTANCE) })}\n`), serverOf(req));
    await streamInvoke(e, platform.store, INSTANCE, {
      write: (line) => res.write(line),
      end: (line) => res.end(line),
      get closed() {
        return res.writableEnded || res.destroyed;
      },
      onClose: (listener) => res.on("close", () => !res.writableFinished && listener()),
    }).finally(exiting);
  });
  const task = guarded(async (req, res) => {
    const name = (req.get(TASK_HEADER) ?? "(no task name)").slice(0, 200);
    // Cloud Tasks dispatches a task again only once this request has ended (deploy/queue.ts: its deadline is past the function's timeout).
    const first = req.get("x-cloudtasks-taskretrycount") === "0";
    send(res, await deliveryAnswer(() => bodyOf(req), platform, INSTANCE, name, { first }));
  });
  const handler = guarded(async (req, res) => {
    const web = await deployedWebFunction();
    if (web !== undefined) return serveWeb(req, res, web, process.env.FAASADE_WEB_ERRORS === "expose");
    if (req.get(TASK_HEADER) !== undefined) return task(req, res);
    if (req.get("accept")?.includes(STREAM_TYPE)) return stream(req, res);
    return invoke(req, res);
  });
  return { handler, invoke, stream, task };
}

/** Registers the handler with functions-framework as `options.entryPoint` ("faasade"). */
export function registerFaasade(options: RuntimeOptions = {}): Handlers {
  watchBlockedInputs(); // Cloud Run lets busy code run on past its timeout
  const made = handlers(options);
  http(options.entryPoint ?? "faasade", made.handler);
  return made;
}

const send = (res: FfResponse, a: TextAnswer) =>
  void res
    .status(a.status)
    .set(a.headers ?? {})
    .type("text/plain")
    .send(a.text);

/** A handler whose failure is a 500 with its message, never an unhandled rejection. */
function guarded(run: (req: FfRequest, res: FfResponse) => Promise<void>): HttpFunction {
  return (req: FfRequest, res: FfResponse) =>
    run(req, res).catch((err: unknown) => {
      console.error("faasade: the request failed:", err);
      if (!res.headersSent) send(res, { status: 500, text: String((err as Error)?.message ?? err) });
      else res.destroy();
    });
}

/** The server a request came through (Node sets `socket.server` on every accepted connection). */
const serverOf = (req: FfRequest): Server | undefined => (req.socket as { server?: Server } | undefined)?.server;

/** The request's JSON: functions-framework has parsed it (application/json) or kept its bytes. */
function bodyOf(req: FfRequest): unknown {
  const bytes = Buffer.isBuffer(req.body) ? req.body : req.rawBody;
  if (bytes === undefined && typeof req.body !== "string") return req.body;
  const text = typeof req.body === "string" ? req.body : (bytes as Buffer).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidError(`faasade: the request's body (${text.length} characters) is not JSON: ${(err as Error).message}`);
  }
}
