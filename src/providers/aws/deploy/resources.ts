/**
 * `faasade deploy <file> --provider aws` and `faasade destroy <app> --provider aws`: makes or
 * updates, idempotently, what an app needs on AWS, and removes it all again. Every step reads
 * first and writes only what differs, so a second deploy of the same code changes nothing, and a
 * deploy converges: what the app no longer asks for (a function, concurrency, a public URL) goes.
 * Every function's options are checked before anything is made. The steps: bucket.ts, role.ts,
 * function.ts (each function), destroy.ts. See docs/aws.md.
 */
import type { AppManifest } from "../../../core/manifest.js";
import { functionName, roleName } from "../names.js";
import { ensureBucket, putManifest, readManifest } from "./bucket.js";
import { type Bundle, bundle } from "../../../cloud/bundle.js";
import { lambdaBundle } from "./entry.js";
import { type AwsDeployOptions, type DeployContext, appScope, deployContext } from "./context.js";
import { type DeployedFunction, deployFunction, removeFunction } from "./function.js";
import { type Architecture, type LambdaSettings, lambdaSettings } from "./function-options.js";
import { rolePolicy } from "./policy.js";
import { request } from "./requests.js";
import { ensureRole } from "./role.js";

export type { AwsDeployOptions } from "./context.js";
export type { DeployedFunction } from "./function.js";
export type { Architecture, AwsFunctionOptions } from "./function-options.js";
export { type DestroyAws, destroyAws } from "./destroy.js";

/** Deploys the apps defined by `module` (their manifests, as the CLI makes them). */
export async function deployAws(
  module: string,
  apps: AppManifest[],
  options: AwsDeployOptions = {},
): Promise<DeployedFunction[]> {
  return deployApps(apps, options, (architecture) => bundle(lambdaBundle(module, architecture, options.external)));
}

/** Builds the code for one architecture: deployAws bundles the module; contract tests pass a stand-in. */
export type Bundler = (architecture: Architecture) => Promise<Bundle>;

interface AppPlan {
  app: AppManifest;
  settings: Map<string, LambdaSettings>;
}

/** deployAws with the bundling step given: checks everything, builds once per architecture used, deploys. */
export async function deployApps(apps: AppManifest[], options: AwsDeployOptions, bundler: Bundler): Promise<DeployedFunction[]> {
  const ctx = await deployContext(options);
  const defaults = { memoryMb: options.memoryMb ?? 1024, architecture: options.architecture ?? "arm64" } as const;
  const plans: AppPlan[] = apps.map((app) => ({
    app,
    settings: new Map(app.functions.map((fn) => [fn.name, lambdaSettings(fn, defaults)])),
  }));
  const lambda = await ctx.sdk.lambda();
  const region = await request("resolving the region (set AWS_REGION or aws({ region }))", () => lambda.config.region());
  const code = new Map<Architecture, Bundle>();
  for (const plan of plans) {
    for (const { architecture } of plan.settings.values()) {
      if (code.has(architecture)) continue;
      ctx.log(`bundling for ${architecture}`);
      code.set(architecture, await bundler(architecture));
    }
  }
  const out: DeployedFunction[] = [];
  for (const plan of plans) out.push(...(await deployApp(ctx, plan, region, code)));
  return out;
}

async function deployApp(
  ctx: DeployContext,
  { app, settings }: AppPlan,
  region: string,
  code: Map<Architecture, Bundle>,
): Promise<DeployedFunction[]> {
  const scope = appScope(ctx, app.app, app.environment);
  const tags = { "faasade:app": app.app, "faasade:env": app.environment };
  await ensureBucket(ctx, scope, region, tags);
  // Functions the app no longer has go while the old manifest still lists them: an interrupted
  // deploy finds them again.
  const previous = await readManifest(ctx, scope);
  const names = new Set(app.functions.map((f) => f.name));
  for (const old of previous?.functions ?? []) {
    if (!names.has(old.name)) await removeFunction(ctx, scope, old.name);
  }
  await putManifest(ctx, scope, app);
  const needsAppRole = ctx.options.roleArn === undefined && [...settings.values()].some((s) => s.role === undefined);
  const namePrefix = `${ctx.prefix}-${app.environment}-${app.app}-`;
  const appRole =
    ctx.options.roleArn ??
    (needsAppRole
      ? await ensureRole(
          ctx,
          roleName(scope.ref),
          (account) =>
            rolePolicy({
              region,
              account,
              bucket: scope.bucket,
              keyPrefix: scope.keyPrefix,
              namePrefix,
              functions: app.functions.map((f) => functionName(scope.ref, f.name)),
            }),
          tags,
        )
      : undefined);
  const out: DeployedFunction[] = [];
  for (const fn of app.functions) {
    const s = settings.get(fn.name) as LambdaSettings;
    const role = (s.role ?? appRole) as string;
    out.push(await deployFunction(ctx, { app, scope, role, code: code.get(s.architecture) as Bundle, settings: s, tags }, fn));
  }
  return out;
}
