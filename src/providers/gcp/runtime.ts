/**
 * @module
 * faasade/gcp/runtime: the Cloud Functions (2nd gen) side, a thin adapter around the cloud
 * layer's HTTP runtime (src/cloud/http-runtime.ts). Bundle it beside the app's module, load that
 * module through `appModule` (an import failure then answers INIT_FAILURE), and call
 * `registerFaasade(...)`: one functions-framework HTTP function (entry point `faasade`) serves,
 * by request, the deployment's web function (every request, so that a public URL never runs an
 * envelope), Cloud Tasks deliveries (`x-cloudtasks-taskname`: 200 once the outcome or retry is
 * stored, 503 to be delivered again), streamed calls (`accept: application/x-ndjson`) and
 * synchronous calls (any other POST). docs/gcp.md says how each is answered.
 */
import { randomBytes } from "node:crypto";
import { http } from "@google-cloud/functions-framework";
import type { Request as FfRequest, Response as FfResponse, HttpFunction } from "@google-cloud/functions-framework";
import { STREAM_TYPE } from "../../cloud/wire.js";
import {
  callEnvelope,
  deliveryAnswer,
  deployedWebFunction,
  guarded,
  isAnswer,
  jsonBody,
  rememberedPlatform,
  respondToCall,
  respondWithStream,
  sendText,
} from "../../cloud/http-runtime.js";
import type { ObjectStore, Queue } from "../../cloud/primitives.js";
import { watchBlockedInputs } from "../../cloud/watchdog.js";
import { provideModule } from "../../core/providers.js";
import { deployedPlatform } from "./deployed.js";
import { CALL_INLINE_BYTES } from "./invoker.js";
import { gcpProvider } from "./platform.js";
import { HELD_FOR_MS } from "./tasks-queue.js";
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
  const platform = rememberedPlatform(deployedPlatform(), options);
  const at = { stores: platform.store, taskId: INSTANCE, limit: CALL_INLINE_BYTES };
  const invoke = guarded<FfRequest, FfResponse>(async (req, res) => {
    const e = callEnvelope(req.method, () => bodyOf(req));
    return isAnswer(e) ? sendText(res, e) : respondToCall(req, res, e, at);
  });
  const stream = guarded<FfRequest, FfResponse>(async (req, res) => {
    const e = callEnvelope(req.method, () => bodyOf(req));
    return isAnswer(e) ? sendText(res, e) : respondWithStream(req, res, e, at);
  });
  const task = guarded<FfRequest, FfResponse>(async (req, res) => {
    const name = (req.get(TASK_HEADER) ?? "(no task name)").slice(0, 200);
    // Cloud Tasks dispatches a task again only once this request has ended, or at its deadline.
    const first = req.get("x-cloudtasks-taskretrycount") === "0";
    sendText(res, await deliveryAnswer(() => bodyOf(req), platform, INSTANCE, name, { first, heldForMs: HELD_FOR_MS }));
  });
  const handler = guarded<FfRequest, FfResponse>(async (req, res) => {
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

/** The request's JSON: functions-framework has parsed it (application/json) or kept its bytes. */
function bodyOf(req: FfRequest): unknown {
  const bytes = Buffer.isBuffer(req.body) ? req.body : req.rawBody;
  if (bytes === undefined && typeof req.body !== "string") return req.body;
  return jsonBody(typeof req.body === "string" ? req.body : (bytes as Buffer).toString("utf8"));
}
