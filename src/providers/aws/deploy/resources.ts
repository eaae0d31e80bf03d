/**
 * `faasade deploy <file> --provider aws` and `faasade destroy <app> --provider aws`: makes or
 * updates, idempotently, what an app needs on AWS, and removes it all again. Every step reads
 * first and writes only what differs, so a second deploy of the same code changes nothing.
 * The steps: bucket.ts, role.ts, function.ts (each function), destroy.ts. See docs/aws.md.
 */
import type { AppManifest } from "../../../core/manifest.js";
import { roleName } from "../names.js";
import { ensureBucket, putManifest } from "./bucket.js";
import { bundle } from "../../../cloud/bundle.js";
import { type AwsDeployOptions, appScope, deployContext } from "./context.js";
import { lambdaBundle } from "./entry.js";
import { type DeployedFunction, deployFunction } from "./function.js";
import { rolePolicy } from "./policy.js";
import { ensureRole } from "./role.js";

export type { AwsDeployOptions } from "./context.js";
export type { DeployedFunction } from "./function.js";
export { destroyAws } from "./destroy.js";

export async function deployAws(
  module: string,
  apps: AppManifest[],
  options: AwsDeployOptions = {},
): Promise<DeployedFunction[]> {
  const ctx = await deployContext(options);
  const region = await (await ctx.sdk.lambda()).config.region();
  ctx.log("bundling");
  const architecture = options.architecture ?? "arm64";
  const code = await bundle(lambdaBundle(module, architecture, options.external));
  const out: DeployedFunction[] = [];
  for (const app of apps) {
    const scope = appScope(ctx, app.app, app.environment);
    const tags = { "faasade:app": app.app, "faasade:env": app.environment };
    await ensureBucket(ctx, scope, region, tags);
    await putManifest(ctx, scope, app);
    const namePrefix = `${ctx.prefix}-${app.environment}-${app.app}-`;
    const role =
      options.roleArn ??
      (await ensureRole(
        ctx,
        roleName(scope.ref),
        (account) => rolePolicy({ region, account, bucket: scope.bucket, keyPrefix: scope.keyPrefix, namePrefix }),
        tags,
      ));
    for (const fn of app.functions) {
      out.push(await deployFunction(ctx, { app, scope, role, code, architecture, tags }, fn));
    }
  }
  return out;
}
