/**
 * Who may call a function's URL. A public web function (`web` without `auth`) has `allUsers`
 * as invoker; every other function has no such binding, so an ID token is needed. The policy is
 * read, and written (with its etag, so a concurrent change is refused) only when it differs.
 *
 * OPEN QUESTION for the lead: this sets `roles/cloudfunctions.invoker` through the Functions
 * API's setIamPolicy, which the admin API test double serves. On the real cloud a 2nd-gen
 * function is served by a Cloud Run service, and what admits a caller there is
 * `roles/run.invoker` on that service (run.googleapis.com/v2 .../services/<id>:setIamPolicy);
 * whether the Functions API's binding is enough for 2nd gen must be checked live.
 */
import { gcpCall } from "../clients.js";
import type { GcpDeployContext } from "./context.js";

export const INVOKER_ROLE = "roles/cloudfunctions.invoker";
const EVERYONE = "allUsers";

interface Binding {
  role?: string | null;
  members?: string[] | null;
}

/** Makes `resource` public or not; true when the policy was changed. */
export async function ensurePublic(ctx: GcpDeployContext, resource: string, isPublic: boolean): Promise<boolean> {
  const functions = await ctx.sdk.functions();
  const [policy] = await gcpCall(`GetIamPolicy ${resource}`, () => functions.getIamPolicy({ resource } as never));
  const bindings = (policy.bindings ?? []) as Binding[];
  const now = bindings.some((b) => b.role === INVOKER_ROLE && b.members?.includes(EVERYONE));
  if (now === isPublic) return false;
  ctx.log(`${isPublic ? "opening" : "closing"} ${resource.split("/").at(-1)} ${isPublic ? "to" : "for"} allUsers`);
  const next = isPublic ? withEveryone(bindings) : withoutEveryone(bindings);
  await gcpCall(`SetIamPolicy ${resource}`, () =>
    functions.setIamPolicy({ resource, policy: { ...policy, bindings: next } } as never),
  );
  return true;
}

function withEveryone(bindings: Binding[]): Binding[] {
  if (!bindings.some((b) => b.role === INVOKER_ROLE)) return [...bindings, { role: INVOKER_ROLE, members: [EVERYONE] }];
  return bindings.map((b) => (b.role === INVOKER_ROLE ? { ...b, members: [...(b.members ?? []), EVERYONE] } : b));
}

function withoutEveryone(bindings: Binding[]): Binding[] {
  return bindings
    .map((b) => (b.role === INVOKER_ROLE ? { ...b, members: (b.members ?? []).filter((m) => m !== EVERYONE) } : b))
    .filter((b) => (b.members ?? []).length > 0);
}
