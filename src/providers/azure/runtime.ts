/**
 * @module
 * faasade/azure/runtime: the Azure Functions side (Node v4 programming model), a thin adapter around the
 * cloud layer's runtime. Bundle it beside the app's module, load that module through `appModule` (an import
 * failure then answers INIT_FAILURE), and call `registerFaasade(...)`, which registers with `@azure/functions`:
 * - `faasade` (HTTP POST, route `faasade`, function key): synchronous calls answered as JSON, streamed calls
 *   (`accept: application/x-ndjson`, generators) as JSON lines written as they come (`enableHttpStream`);
 * - `faasade-queue` (the storage-queue trigger of `%FAASADE_AZURE_QUEUE%`): one spawned input per message,
 *   settled once (src/cloud/consumer.ts): returning lets the host delete the message; throwing (handed back,
 *   or not done) makes the host show it again; a message that can never run is logged and dropped;
 * - `web` (every method, route `{*path}`), only where deploy set `FAASADE_AZURE_WEB` for a web function: the
 *   request as a Web Request, the function's Response streamed back.
 * host.json's `routePrefix` is "" (deploy sets it): faasade's entry is `https://<host>/faasade`.
 */
import { randomBytes } from "node:crypto";
import azf from "@azure/functions";
import type { HttpRequest, HttpResponse, HttpResponseInit, InvocationContext } from "@azure/functions";
import {
  callAnswer,
  callEnvelope,
  deployedWebFunction,
  isAnswer,
  jsonBody,
  rememberedPlatform,
  settleDelivery,
  textResponse,
} from "../../cloud/http-runtime.js";
import { streamedLines } from "../../cloud/invoked.js";
import type { ObjectStore, Queue } from "../../cloud/primitives.js";
import { watchBlockedInputs } from "../../cloud/watchdog.js";
import { type Envelope, STREAM_TYPE } from "../../cloud/wire.js";
import { provideModule } from "../../core/providers.js";
import { deployedPlatform } from "./deployed.js";
import { CALL_INLINE_BYTES, CALL_ROUTE } from "./invoker.js";
import { azureProvider } from "./platform.js";
import { serveWeb } from "./web-serve.js";

// Calls made inside a function go to this cloud (FAASADE_PROVIDER=azure there), also from a bundle: the
// subscription, resource group, prefix and retention come from the app settings deploy sets.
provideModule("azure", { defaultProvider: () => azureProvider({}) });

export { appModule } from "../../cloud/run-input.js";
export type { InvokeAnswer } from "../../cloud/wire.js";

export interface RuntimeOptions {
  /** The object store of a container an envelope names (Blob Storage). @default blobStore, as deployed (deployed.ts) */
  store?(container: string): ObjectStore;
  /** The queue an envelope's spawn target names (a storage queue). @default storageQueue, as deployed (deployed.ts) */
  queue?(name: string): Queue;
}

type Answer = HttpResponseInit | HttpResponse;

export interface Handlers {
  /** `faasade`: synchronous and streamed calls. */
  call(request: HttpRequest, context: InvocationContext): Promise<Answer>;
  /** `faasade-queue`: one spawned input per message. */
  queue(message: unknown, context: InvocationContext): Promise<void>;
  /** `web`: the deployment's web function. */
  web(request: HttpRequest, context: InvocationContext): Promise<Answer>;
}

/** The methods a web function's trigger takes: all of them; the function decides. */
const WEB_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

/** This instance, as outcomes name where they ran. */
const INSTANCE = `${process.env.WEBSITE_SITE_NAME ?? "azf"}/${randomBytes(4).toString("hex")}`;

/** A streamed call: one JSON line per yielded value as it comes, then the outcome. */
const streamed = (e: Envelope, stores: (name: string) => ObjectStore): HttpResponseInit => ({
  status: 200,
  headers: { "content-type": STREAM_TYPE },
  body: streamedLines(e, stores, INSTANCE),
});

export function handlers(options: RuntimeOptions = {}): Handlers {
  const platform = rememberedPlatform(deployedPlatform(), options);
  return {
    async call(request) {
      const body = await request.text();
      const e = callEnvelope(request.method, () => jsonBody(body));
      if (isAnswer(e)) return textResponse(e);
      if (request.headers.get("accept")?.includes(STREAM_TYPE)) return streamed(e, platform.store);
      return { status: 200, jsonBody: await callAnswer(e, platform.store, INSTANCE, CALL_INLINE_BYTES) };
    },
    async queue(message, context) {
      const delivery = { what: "message", name: String(context.triggerMetadata?.id ?? "(no id)").slice(0, 200) };
      const body = () => (typeof message === "string" ? jsonBody(message) : message);
      // The host holds a message invisible, renewing it, as long as its function runs: its first delivery has no twin.
      // It shows a message again only once the run that had it ended (failed, or its instance exited).
      const first = Number(context.triggerMetadata?.dequeueCount) === 1;
      const settled = await settleDelivery(body, platform, INSTANCE, delivery, { first, earlierEnded: !first });
      if (settled.is === "not done") throw settled.err; // the host shows the message again
    },
    async web(request) {
      const fn = await deployedWebFunction();
      if (fn === undefined) return textResponse({ status: 404, text: "faasade: this deployment has no web function" });
      return serveWeb(request, fn, process.env.FAASADE_WEB_ERRORS === "expose");
    },
  };
}

/** Registers faasade's functions with `@azure/functions` (the web function's only where deploy asked for it). */
export function registerFaasade(options: RuntimeOptions = {}): Handlers {
  watchBlockedInputs(); // a function's busy code would keep its instance past the timeout
  const made = handlers(options);
  const { app } = azf;
  app.setup({ enableHttpStream: true });
  app.http("faasade", { methods: ["POST"], authLevel: "function", route: CALL_ROUTE, handler: made.call });
  const web = process.env.FAASADE_AZURE_WEB;
  if (web === "anonymous" || web === "function")
    app.http("web", { methods: [...WEB_METHODS], authLevel: web, route: "{*path}", handler: made.web });
  app.storageQueue("faasade-queue", {
    queueName: "%FAASADE_AZURE_QUEUE%",
    connection: "FAASADE_AZURE_STORAGE",
    handler: made.queue,
  });
  return made;
}
