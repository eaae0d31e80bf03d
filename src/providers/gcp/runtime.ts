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
import { AttemptStillRunning } from "../../cloud/attempt-lease.js";
import { type ConsumerPlatform, consume } from "../../cloud/consumer.js";
import { answerOnExit } from "../../cloud/exits.js";
import { answerInvoke, exitAnswer, streamInvoke } from "../../cloud/invoked.js";
import type { ObjectStore, Queue } from "../../cloud/primitives.js";
import { functionOf } from "../../cloud/run-input.js";
import { watchBlockedInputs } from "../../cloud/watchdog.js";
import { type Envelope, checkEnvelope, toWire, unreachable } from "../../cloud/wire.js";
import { InvalidError } from "../../core/errors.js";
import type { Function_ } from "../../core/function.js";
import { provideModule } from "../../core/providers.js";
import { deployedPlatform } from "./deployed.js";
import { CALL_INLINE_BYTES, STREAM_TYPE } from "./http-invoker.js";
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
  const platform = remembered(options);
  const invoke = guarded(async (req, res) => {
    const e = envelopeOf(req, res);
    if (e === undefined) return;
    const reply = (answer: unknown) => res.status(200).type("application/json").send(JSON.stringify(answer));
    // Closing: the caller's next request must not reuse a connection to an instance that is gone.
    const exiting = answerOnExit((code) => {
      res.set("connection", "close");
      reply(exitAnswer(e, code, INSTANCE));
    }, serverOf(req));
    let answer: unknown;
    try {
      answer = await answerInvoke(e, platform.store, INSTANCE, CALL_INLINE_BYTES);
    } catch (err) {
      // The store refused (arguments or a large outcome): the caller is told as a failure of this input.
      answer = toWire(unreachable({ ...e, args: new Uint8Array() }, err));
    } finally {
      exiting();
    }
    reply(answer);
  });
  const stream = guarded(async (req, res) => {
    const e = envelopeOf(req, res);
    if (e === undefined) return;
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
  const task = guarded((req, res) => deliver(req, res, platform));
  const handler = guarded(async (req, res) => {
    const web = await webFunction();
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

/** One store and one queue client per name, as long as the instance lives. */
function remembered(given: RuntimeOptions): ConsumerPlatform {
  const options = { ...deployedPlatform(), ...given } as Required<RuntimeOptions>;
  const stores = new Map<string, ObjectStore>();
  const queues = new Map<string, Queue>();
  return {
    store: (name) => stores.get(name) ?? (stores.set(name, options.store(name)).get(name) as ObjectStore),
    queue: (name) => queues.get(name) ?? (queues.set(name, options.queue(name)).get(name) as Queue),
  };
}

/** A handler whose failure is a 500 with its message, never an unhandled rejection. */
function guarded(run: (req: FfRequest, res: FfResponse) => Promise<void>): HttpFunction {
  return (req: FfRequest, res: FfResponse) =>
    run(req, res).catch((err: unknown) => {
      console.error("faasade: the request failed:", err);
      if (!res.headersSent)
        res
          .status(500)
          .type("text/plain")
          .send(String((err as Error)?.message ?? err));
      else res.destroy();
    });
}

/** The server a request came through (Node sets `socket.server` on every accepted connection). */
const serverOf = (req: FfRequest): Server | undefined => (req.socket as { server?: Server } | undefined)?.server;

/** The deployment's own function when it is a web function; undefined for any other deployment. */
let web: Promise<Function_ | undefined> | undefined;
function webFunction(): Promise<Function_ | undefined> {
  const fn = process.env.FAASADE_FUNCTION;
  if (fn === undefined || fn === "") return Promise.resolve(undefined);
  web ??= functionOf({ app: process.env.FAASADE_APP ?? "", env: process.env.FAASADE_ENVIRONMENT ?? "main", fn }).then((h) =>
    typeof h !== "string" && h.definition().spec.options.web ? h : undefined,
  );
  return web;
}

/** The request's envelope, checked; or undefined once a 4xx saying why was answered. */
function envelopeOf(req: FfRequest, res: FfResponse): Envelope | undefined {
  if (req.method !== "POST") {
    res.status(405).set("allow", "POST").type("text/plain").send("faasade: calls are POSTed envelopes");
    return undefined;
  }
  try {
    return checkEnvelope(bodyOf(req), "faasade: the request's envelope");
  } catch (err) {
    res
      .status(400)
      .type("text/plain")
      .send((err as Error).message);
    return undefined;
  }
}

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

/** One Cloud Tasks delivery: the queued envelope run by the consumer, answered as the module's documentation says. */
async function deliver(req: FfRequest, res: FfResponse, platform: ConsumerPlatform): Promise<void> {
  const name = (req.get(TASK_HEADER) ?? "(no task name)").slice(0, 200);
  let e: Envelope;
  try {
    e = checkEnvelope(bodyOf(req), "faasade: the task's envelope");
    if (e.spawn === undefined || e.store === undefined)
      throw new InvalidError("faasade: the task's envelope has no spawn target or store: it is not a queued input");
  } catch (err) {
    console.error(`faasade: dropped task ${name}, which can never run: ${(err as Error).message}`);
    res
      .status(200)
      .type("text/plain")
      .send(`dropped: ${(err as Error).message}`);
    return;
  }
  try {
    await consume(e, platform, INSTANCE);
  } catch (err) {
    const handedBack = err instanceof AttemptStillRunning;
    if (!handedBack) console.error(`faasade: task ${name} was not done:`, err);
    res
      .status(503)
      .type("text/plain")
      .send(`${handedBack ? "handed back" : "not done"}: ${(err as Error).message}`);
    return;
  }
  res.status(200).type("text/plain").send("done");
}
