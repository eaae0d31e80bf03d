/**
 * Who may call a function's URL. A 2nd gen function is served by the Cloud Run service of the
 * same name, and Cloud Run admits a caller by `roles/run.invoker` on that service
 * (Google: https://cloud.google.com/functions/docs/reference/iam/roles; the Functions API's
 * `roles/cloudfunctions.invoker` is 1st gen's). So the invoker members are set on the service,
 * through the Cloud Run Admin API v2: `allUsers` for a public web function (`web` without
 * `auth`), and the functions' own service account when one is given, since Cloud Tasks signs
 * its deliveries' ID tokens as it. The policy is read, and written (with its etag, so a
 * concurrent change is refused) only when it differs.
 */
import { gcpError } from "../clients.js";
import type { GcpDeployContext } from "./context.js";

export const INVOKER_ROLE = "roles/run.invoker";
export const EVERYONE = "allUsers";
const RUN_API = "https://run.googleapis.com";

interface Binding {
  role?: string;
  members?: string[];
}
interface Policy {
  bindings?: Binding[];
  etag?: string;
}

export interface Invokers {
  /** `allUsers` may call it (a public web function). */
  isPublic: boolean;
  /** `serviceAccount:...` members that must be invokers (the functions' own account). */
  accounts: string[];
}

/** The Cloud Run service that serves the 2nd gen function `functionName`: the same id. */
export const serviceOf = (functionName: string) => functionName.replace("/functions/", "/services/");

/** Sets the invoker members of the function's service; true when the policy was changed. */
export async function ensureInvokers(ctx: GcpDeployContext, functionName: string, wanted: Invokers): Promise<boolean> {
  const service = serviceOf(functionName);
  const policy = await runIam<Policy>(ctx, service, "getIamPolicy");
  const bindings = policy.bindings ?? [];
  const members = new Set(bindings.find((b) => b.role === INVOKER_ROLE)?.members ?? []);
  const next = new Set([...members].filter((m) => m !== EVERYONE));
  if (wanted.isPublic) next.add(EVERYONE);
  for (const account of wanted.accounts) next.add(`serviceAccount:${account}`);
  if (next.size === members.size && [...next].every((m) => members.has(m))) return false;
  ctx.log(`setting who may call ${service.split("/").at(-1)}${wanted.isPublic ? " (public)" : ""}`);
  const others = bindings.filter((b) => b.role !== INVOKER_ROLE);
  const invoker = next.size === 0 ? [] : [{ role: INVOKER_ROLE, members: [...next].sort() }];
  await runIam(ctx, service, "setIamPolicy", { policy: { ...policy, bindings: [...others, ...invoker] } });
  return true;
}

/** One Cloud Run Admin API v2 IAM call with the deployer's credentials; a refusal is `gcpError`'s. */
async function runIam<T>(
  ctx: GcpDeployContext,
  service: string,
  verb: "getIamPolicy" | "setIamPolicy",
  body?: object,
): Promise<T> {
  const url = `${ctx.options.endpoints.run ?? RUN_API}/v2/${service}:${verb}`;
  const operation = `${verb === "getIamPolicy" ? "GetIamPolicy" : "SetIamPolicy"} ${service}`;
  let response: Response;
  try {
    const auth = await (await ctx.sdk.auth()).getRequestHeaders(url);
    const headers = new Headers(auth as ConstructorParameters<typeof Headers>[0]);
    headers.set("content-type", "application/json");
    response = await fetch(url, {
      method: body === undefined ? "GET" : "POST",
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (cause) {
    throw gcpError(operation, cause);
  }
  const text = await response.text();
  if (!response.ok) {
    const said = errorMessage(text);
    throw gcpError(operation, { code: response.status, message: said });
  }
  return (text === "" ? {} : JSON.parse(text)) as T;
}

/** Google's `{ error: { message } }`, or the start of whatever was answered. */
function errorMessage(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}
