/** The execution role faasade makes for an app, and its inline policy (policy.ts), kept up to date. */
import { awsCall, providerError } from "../clients.js";
import type { DeployContext } from "./context.js";
import { TRUST_POLICY } from "./policy.js";

const POLICY_NAME = "faasade";

/** The role's ARN; its policy is made for the account the role lives in. */
export async function ensureRole(
  ctx: DeployContext,
  roleName: string,
  policyFor: (account: string) => object,
  tags: Record<string, string>,
): Promise<string> {
  const I = await import("@aws-sdk/client-iam");
  const iam = await ctx.sdk.iam();
  const existing = await iam.send(new I.GetRoleCommand({ RoleName: roleName })).then(
    (r) => r.Role,
    (err: unknown) => {
      if ((err as { name?: string }).name === "NoSuchEntity") return undefined;
      throw providerError(`GetRole ${roleName}`, err);
    },
  );
  let arn = existing?.Arn;
  if (arn === undefined) {
    ctx.log(`role ${roleName}`);
    const created = await awsCall(`CreateRole ${roleName}`, () =>
      iam.send(
        new I.CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(TRUST_POLICY),
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    );
    arn = created.Role?.Arn as string;
  }
  const document = JSON.stringify(policyFor(arn.split(":")[4] ?? ""));
  const current = await iam.send(new I.GetRolePolicyCommand({ RoleName: roleName, PolicyName: POLICY_NAME })).then(
    (r) => decodeURIComponent(r.PolicyDocument ?? ""),
    () => undefined,
  );
  if (current === undefined || normalizedJson(current) !== document) {
    await awsCall("PutRolePolicy", () =>
      iam.send(new I.PutRolePolicyCommand({ RoleName: roleName, PolicyName: POLICY_NAME, PolicyDocument: document })),
    );
  }
  return arn;
}

/** Removes the role and its policy; missing ones are fine. */
export async function removeRole(ctx: DeployContext, roleName: string, ignoreMissing: (err: unknown) => void): Promise<void> {
  const I = await import("@aws-sdk/client-iam");
  const iam = await ctx.sdk.iam();
  await iam.send(new I.DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: POLICY_NAME })).catch(ignoreMissing);
  await iam.send(new I.DeleteRoleCommand({ RoleName: roleName })).catch(ignoreMissing);
}

/** A JSON document as faasade writes it, or undefined when it is not JSON. */
function normalizedJson(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
}
