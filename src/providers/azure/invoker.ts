/** Calls of a function app: an HTTPS POST to its faasade route (src/cloud/http-invoker.ts) with the app's host key. */
import { httpInvoker } from "../../cloud/http-invoker.js";
import type { Invoker } from "../../cloud/primitives.js";
import type { FunctionSpec } from "../../core/provider.js";

/** Azure Functions takes up to 100 MB: 16 MB inline leaves room for JSON and base64, and keeps answers quick. */
export const CALL_INLINE_BYTES = 16 * 1024 * 1024;
/** The route of faasade's own HTTP function (host.json's routePrefix is ""). */
export const CALL_ROUTE = "faasade";

export function azureInvoker(options: {
  urlOf(fn: FunctionSpec): string | Promise<string>;
  /** The app's host key, never logged and never in an error. */
  keyOf(fn: FunctionSpec): Promise<string>;
}): Invoker {
  return httpInvoker({
    platform: "azure",
    service: "Azure Functions",
    requestLimit: "100 MB",
    callLimit: CALL_INLINE_BYTES,
    urlOf: options.urlOf,
    headers: async (_url, fn) => ({ "x-functions-key": await options.keyOf(fn) }),
    refused:
      "the function app refused its host key; the caller needs Microsoft.Web/sites/host/listkeys/action on the app to read it",
  });
}
