/**
 * A web function's URL, on the `live` alias. Public by default (API.md: browsers and webhooks
 * call it): auth type NONE plus the resource-based statements Lambda requires for a public URL.
 * `web: { auth: true }` makes it AWS_IAM (SigV4) and removes those statements. A function that
 * is no longer a web function loses its URL.
 */
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { ExecutionError } from "../../../core/errors.js";
import { ALIAS } from "../names.js";
import type { DeployContext } from "./context.js";
import { read, remove, request } from "./requests.js";

/** The statements a public URL needs: since October 2025, InvokeFunctionUrl and InvokeFunction (via the URL only). */
const PUBLIC_STATEMENTS = [
  { StatementId: "faasade-public-url", Action: "lambda:InvokeFunctionUrl", FunctionUrlAuthType: "NONE" as const },
  { StatementId: "faasade-public-url-invoke", Action: "lambda:InvokeFunction", InvokedViaFunctionUrl: true },
];

/** The URL of a web function (undefined for others, whose URL is removed if an older deploy made one). */
export async function ensureUrl(
  ctx: DeployContext,
  name: string,
  web: { auth?: boolean | undefined } | undefined,
): Promise<string | undefined> {
  const { L } = ctx;
  const lambda = await ctx.sdk.lambda();
  const current = await read(`GetFunctionUrlConfig ${name}:${ALIAS}`, () =>
    lambda.send(new L.GetFunctionUrlConfigCommand({ FunctionName: name, Qualifier: ALIAS })),
  );
  if (web === undefined) {
    if (current === undefined) return undefined;
    await remove(`DeleteFunctionUrlConfig ${name}:${ALIAS}`, () =>
      lambda.send(new L.DeleteFunctionUrlConfigCommand({ FunctionName: name, Qualifier: ALIAS })),
    );
    await ensurePublic(ctx, lambda, name, false);
    return undefined;
  }
  const isPublic = web.auth !== true;
  const authType = isPublic ? "NONE" : "AWS_IAM";
  // Public: the statements first, then the auth type (never a public URL that answers 403).
  // Authenticated: the auth type first, then the statements go (never a moment still public).
  if (isPublic) await ensurePublic(ctx, lambda, name, true);
  let url = current?.FunctionUrl;
  if (current === undefined) {
    const created = await request(`CreateFunctionUrlConfig ${name}:${ALIAS}`, () =>
      lambda.send(
        new L.CreateFunctionUrlConfigCommand({
          FunctionName: name,
          Qualifier: ALIAS,
          AuthType: authType,
          InvokeMode: "BUFFERED",
        }),
      ),
    );
    url = created.FunctionUrl;
  } else if (current.AuthType !== authType) {
    await request(`UpdateFunctionUrlConfig ${name}:${ALIAS}`, () =>
      lambda.send(new L.UpdateFunctionUrlConfigCommand({ FunctionName: name, Qualifier: ALIAS, AuthType: authType })),
    );
  }
  if (!isPublic) await ensurePublic(ctx, lambda, name, false);
  return url;
}

/** Adds or removes the public statements on the alias, reading its policy first. */
async function ensurePublic(ctx: DeployContext, lambda: LambdaClient, name: string, wanted: boolean): Promise<void> {
  const { L } = ctx;
  const policy = await read(`GetPolicy ${name}:${ALIAS}`, () =>
    lambda.send(new L.GetPolicyCommand({ FunctionName: name, Qualifier: ALIAS })),
  );
  const present = statementIds(policy?.Policy);
  for (const statement of PUBLIC_STATEMENTS) {
    const has = present.has(statement.StatementId);
    if (wanted && !has) await addStatement(ctx, lambda, name, statement);
    if (!wanted && has) {
      await remove(`RemovePermission ${name}:${ALIAS} ${statement.StatementId}`, () =>
        lambda.send(new L.RemovePermissionCommand({ FunctionName: name, Qualifier: ALIAS, StatementId: statement.StatementId })),
      );
    }
  }
}

async function addStatement(
  ctx: DeployContext,
  lambda: LambdaClient,
  name: string,
  statement: (typeof PUBLIC_STATEMENTS)[number],
): Promise<void> {
  const { L } = ctx;
  const operation = `AddPermission ${name}:${ALIAS} ${statement.StatementId}`;
  const added = await request(operation, async () => {
    try {
      return await lambda.send(
        new L.AddPermissionCommand({ FunctionName: name, Qualifier: ALIAS, Principal: "*", ...statement }),
      );
    } catch (err) {
      // Made meanwhile (another deploy): the statement is there.
      const e = err as { name?: string; message?: string };
      if (e?.name === "ResourceConflictException" && /already exists/i.test(e.message ?? "")) return undefined;
      throw err;
    }
  });
  // An SDK that predates InvokedViaFunctionUrl drops it silently, which would let anyone invoke
  // the function directly: such a statement is taken back at once.
  if (statement.InvokedViaFunctionUrl && added?.Statement !== undefined && !added.Statement.includes("InvokedViaFunctionUrl")) {
    await remove(`RemovePermission ${name}:${ALIAS} ${statement.StatementId}`, () =>
      lambda.send(new L.RemovePermissionCommand({ FunctionName: name, Qualifier: ALIAS, StatementId: statement.StatementId })),
    );
    throw new ExecutionError(
      `function ${name}: a public function URL needs an @aws-sdk/client-lambda whose AddPermission has InvokedViaFunctionUrl (October 2025 on): upgrade it, or set web: { auth: true }`,
    );
  }
}

function statementIds(policy: string | undefined): Set<string> {
  if (policy === undefined) return new Set();
  try {
    const doc = JSON.parse(policy) as { Statement?: { Sid?: string }[] };
    return new Set((doc.Statement ?? []).flatMap((s) => (s.Sid === undefined ? [] : [s.Sid])));
  } catch {
    return new Set();
  }
}
