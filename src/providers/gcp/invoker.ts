/** Calls of a 2nd gen function: an HTTPS POST to its URL (src/cloud/http-invoker.ts) with a Google ID token for that URL. */
import { httpInvoker } from "../../cloud/http-invoker.js";
import { rememberedBy } from "../../cloud/once.js";
import type { Invoker } from "../../cloud/primitives.js";
import { ProviderError } from "../../core/errors.js";
import type { FunctionSpec } from "../../core/provider.js";
import { type GcpClients, gcpCall } from "./clients.js";

/** Cloud Functions takes and answers up to 32 MB (10 MB streamed): half inline leaves room for JSON and base64. */
export const CALL_INLINE_BYTES = 16 * 1024 * 1024;

export function gcpInvoker(options: {
  urlOf(fn: FunctionSpec): string | Promise<string>;
  /** A Google ID token for `audience`; `googleIdTokens(clients)` in production. */
  idToken(audience: string): Promise<string>;
}): Invoker {
  return httpInvoker({
    platform: "gcp",
    service: "Cloud Functions",
    requestLimit: "32 MB",
    callLimit: CALL_INLINE_BYTES,
    urlOf: options.urlOf,
    headers: async (url) => ({ authorization: `Bearer ${await gcpCall("ID token", () => options.idToken(url))}` }),
    refused:
      "the caller's ID token was refused; it needs roles/run.invoker (run.routes.invoke) on the function's Cloud Run service",
  });
}

/** ID tokens from Google's auth (ADC: a service account key, gcloud, the metadata server), one client per audience. */
export function googleIdTokens(clients: Pick<GcpClients, "auth">): (audience: string) => Promise<string> {
  const clientOf = rememberedBy(String, async (audience: string) => (await clients.auth()).getIdTokenClient(audience));
  return async (audience) => {
    // The client caches its token until shortly before it expires.
    const authorization = (await (await clientOf(audience)).getRequestHeaders()).get("authorization") ?? "";
    if (!authorization.startsWith("Bearer "))
      throw new ProviderError(`gcp: no ID token for ${audience}: the credentials gave no Bearer token`);
    return authorization.slice("Bearer ".length);
  };
}
