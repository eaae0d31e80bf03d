/**
 * A function's Lambda: its code (by hash and architecture), its configuration, and a published
 * version behind the `live` alias. The alias's description records what its version holds, so a
 * deploy stopped after an update but before publishing still publishes next time.
 */
import { createHash } from "node:crypto";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { FunctionManifest } from "../../../core/manifest.js";
import { refusal as providerError } from "../clients.js";
import { ALIAS } from "../names.js";
import type { Bundle } from "../../../cloud/bundle.js";
import type { DeployContext } from "./context.js";
import type { LambdaSettings } from "./function-options.js";
import type { FunctionTarget } from "./function.js";
import { read, request } from "./requests.js";

/** One function of the deploy's target, by its Lambda name. */
export interface CodeTarget extends FunctionTarget {
  /** The Lambda function's name. */
  name: string;
  fn: FunctionManifest;
}

/** A role made moments ago is not yet assumable by Lambda: IAM is eventually consistent. */
const ROLE_RETRY_DELAYS_MS = [1000, 2000, 3000, 4000, 5000, 5000, 5000];

/** Makes or updates the function and points the alias at a version of exactly this; returns the function's ARN. */
export async function ensureCode(ctx: DeployContext, t: CodeTarget): Promise<string> {
  const { L } = ctx;
  const { name, code, settings } = t;
  const lambda = await ctx.sdk.lambda();
  const config = configOf(ctx, t);
  const existing = await read(`GetFunction ${name}`, () => lambda.send(new L.GetFunctionCommand({ FunctionName: name })));
  let functionArn = existing?.Configuration?.FunctionArn;
  if (existing === undefined) {
    const created = await roleRetried(`CreateFunction ${name}`, () =>
      lambda.send(
        new L.CreateFunctionCommand({
          ...config,
          Architectures: [settings.architecture],
          Code: { ZipFile: code.zip },
          Tags: { ...t.tags, "faasade:function": t.fn.name, "faasade:code-hash": code.hash },
        }),
      ),
    );
    functionArn = created.FunctionArn;
    await waitFor(ctx, lambda, name, "active");
  } else {
    const c = existing.Configuration;
    // An update an interrupted deploy started must end before Lambda takes another.
    if (c?.State === "Pending") await waitFor(ctx, lambda, name, "active");
    if (c?.LastUpdateStatus === "InProgress") await waitFor(ctx, lambda, name, "updated");
    if (existing.Tags?.["faasade:code-hash"] !== code.hash || c?.Architectures?.[0] !== settings.architecture) {
      await request(`UpdateFunctionCode ${name}`, () =>
        lambda.send(
          new L.UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: code.zip, Architectures: [settings.architecture] }),
        ),
      );
      await waitFor(ctx, lambda, name, "updated");
      await request(`TagResource ${name}`, () =>
        lambda.send(new L.TagResourceCommand({ Resource: c?.FunctionArn, Tags: { "faasade:code-hash": code.hash } })),
      );
    }
    if (!sameConfig(c, config)) {
      await roleRetried(`UpdateFunctionConfiguration ${name}`, () =>
        lambda.send(new L.UpdateFunctionConfigurationCommand(config)),
      );
      await waitFor(ctx, lambda, name, "updated");
    }
  }
  await ensureRecursion(ctx, lambda, name);
  await ensureAlias(ctx, lambda, name, fingerprint(code, settings, config));
  return functionArn as string;
}

type Config = ReturnType<typeof configOf>;

function configOf(ctx: DeployContext, t: CodeTarget) {
  const { app, scope, fn, settings } = t;
  const env = {
    ...settings.environment,
    FAASADE_APP: app.app,
    FAASADE_ENVIRONMENT: app.environment,
    FAASADE_FUNCTION: fn.name,
    FAASADE_PROVIDER: "aws",
    FAASADE_AWS_PREFIX: ctx.prefix,
    ...(scope.shared === undefined ? {} : { FAASADE_AWS_BUCKET: scope.shared }),
  };
  return {
    FunctionName: t.name,
    Runtime: ctx.options.runtime ?? "nodejs22.x",
    Role: t.role,
    Handler: fn.isGenerator ? "index.stream" : "index.handler",
    Timeout: settings.timeoutS,
    MemorySize: settings.memoryMb,
    Environment: { Variables: sortKeys(env) },
    // Sent even when empty: a redeploy without layers (or storage) removes what an older one set.
    Layers: settings.layers,
    EphemeralStorage: { Size: settings.ephemeralStorageMb },
  } as const;
}

type Current = {
  Runtime?: string | undefined;
  Role?: string | undefined;
  Handler?: string | undefined;
  Timeout?: number | undefined;
  MemorySize?: number | undefined;
  Environment?: { Variables?: Record<string, string> | undefined } | undefined;
  Layers?: { Arn?: string | undefined }[] | undefined;
  EphemeralStorage?: { Size?: number | undefined } | undefined;
};

function sameConfig(c: Current | undefined, config: Config): boolean {
  return (
    c?.Runtime === config.Runtime &&
    c?.Role === config.Role &&
    c?.Handler === config.Handler &&
    c?.Timeout === config.Timeout &&
    c?.MemorySize === config.MemorySize &&
    JSON.stringify(sortKeys(c?.Environment?.Variables ?? {})) === JSON.stringify(config.Environment.Variables) &&
    JSON.stringify((c?.Layers ?? []).map((l) => l.Arn)) === JSON.stringify(config.Layers) &&
    (c?.EphemeralStorage?.Size ?? 512) === config.EphemeralStorage.Size
  );
}

/** What a version of this deploy holds: the code, its architecture and the configuration. */
function fingerprint(code: Bundle, settings: LambdaSettings, config: Config): string {
  const what = JSON.stringify({ code: code.hash, architecture: settings.architecture, config });
  return `faasade ${createHash("sha256").update(what).digest("hex")}`;
}

/** Publishes a version and moves the alias to it unless the alias already holds exactly this. */
async function ensureAlias(ctx: DeployContext, lambda: LambdaClient, name: string, description: string): Promise<void> {
  const { L } = ctx;
  const alias = await read(`GetAlias ${name}:${ALIAS}`, () =>
    lambda.send(new L.GetAliasCommand({ FunctionName: name, Name: ALIAS })),
  );
  if (alias?.Description === description) return;
  const version = await request(`PublishVersion ${name}`, () => lambda.send(new L.PublishVersionCommand({ FunctionName: name })));
  const target = { FunctionName: name, Name: ALIAS, FunctionVersion: version.Version, Description: description };
  if (alias === undefined) await request(`CreateAlias ${name}:${ALIAS}`, () => lambda.send(new L.CreateAliasCommand(target)));
  else await request(`UpdateAlias ${name}:${ALIAS}`, () => lambda.send(new L.UpdateAliasCommand(target)));
}

/** Apps that call their own functions are recursive loops to Lambda: allowed. */
async function ensureRecursion(ctx: DeployContext, lambda: LambdaClient, name: string): Promise<void> {
  const { L } = ctx;
  const current = await read(`GetFunctionRecursionConfig ${name}`, () =>
    lambda.send(new L.GetFunctionRecursionConfigCommand({ FunctionName: name })),
  );
  if (current?.RecursiveLoop === "Allow") return;
  await request(`PutFunctionRecursionConfig ${name}`, () =>
    lambda.send(new L.PutFunctionRecursionConfigCommand({ FunctionName: name, RecursiveLoop: "Allow" })),
  );
}

async function waitFor(ctx: DeployContext, lambda: LambdaClient, name: string, what: "active" | "updated"): Promise<void> {
  const { L } = ctx;
  await request(`waiting for ${name} to be ${what}`, () =>
    (what === "active" ? L.waitUntilFunctionActiveV2 : L.waitUntilFunctionUpdatedV2)(
      { client: lambda, maxWaitTime: 300, minDelay: 1 },
      { FunctionName: name },
    ),
  );
}

/** A request naming the execution role, retried while Lambda cannot assume a role IAM has just made. */
async function roleRetried<T>(operation: string, run: () => Promise<T>): Promise<T> {
  for (const delay of ROLE_RETRY_DELAYS_MS) {
    try {
      return await run();
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e?.name !== "InvalidParameterValueException" || !/role.*assumed/i.test(e.message ?? ""))
        throw providerError(operation, err);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return request(operation, run);
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
