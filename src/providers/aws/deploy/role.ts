/** The execution role faasade makes for an app, and its inline policy (policy.ts), kept up to date. */
import type { DeployContext } from "./context.js";
import { TRUST_POLICY } from "./policy.js";
import { read, remove, request } from "./requests.js";

const POLICY_NAME = "faasade";

/** The role's ARN; its policy is made for the account the role lives in. */
export async function ensureRole(
  ctx: DeployContext,
  roleName: string,
  policyFor: (account: string) => object,
  tags: Record<string, string>,
): Promise<string> {
  const { I } = ctx;
  const iam = await ctx.sdk.iam();
  const existing = await read(`GetRole ${roleName}`, () => iam.send(new I.GetRoleCommand({ RoleName: roleName })));
  let arn = existing?.Role?.Arn;
  if (arn === undefined) {
    ctx.log(`role ${roleName}`);
    const created = await request(`CreateRole ${roleName}`, () =>
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
  const current = await read(`GetRolePolicy ${roleName}`, () =>
    iam.send(new I.GetRolePolicyCommand({ RoleName: roleName, PolicyName: POLICY_NAME })),
  );
  const text = current?.PolicyDocument === undefined ? undefined : decodeURIComponent(current.PolicyDocument);
  if (text === undefined || normalizedJson(text) !== document) {
    await request(`PutRolePolicy ${roleName}`, () =>
      iam.send(new I.PutRolePolicyCommand({ RoleName: roleName, PolicyName: POLICY_NAME, PolicyDocument: document })),
    );
  }
  return arn;
}

/** Removes the role and its policy; missing ones are fine. */
export async function removeRole(ctx: DeployContext, roleName: string): Promise<void> {
  const { I } = ctx;
  const iam = await ctx.sdk.iam();
  await remove(`DeleteRolePolicy ${roleName}`, () =>
    iam.send(new I.DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: POLICY_NAME })),
  );
  await remove(`DeleteRole ${roleName}`, () => iam.send(new I.DeleteRoleCommand({ RoleName: roleName })));
}

/** A JSON document as faasade writes it, or undefined when it is not JSON. */
function normalizedJson(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
}
