/**
 * `faasade destroy <app> --provider aws`: removes what deploy made for an app, found with the
 * same options deploy took (prefix, bucket, region, endpoints, credentials, roleArn).
 */
import { NotFoundError } from "../../../core/errors.js";
import { roleName } from "../names.js";
import { readManifest, removeObjects } from "./bucket.js";
import { type AwsDeployOptions, appScope, deployContext } from "./context.js";
import { removeFunction } from "./function.js";
import { remove } from "./requests.js";
import { removeRole } from "./role.js";

/**
 * Removes, with the options `deployAws` was given: per function its event source mapping, Lambda
 * (versions, alias, URL and concurrency with it) and queues; the role faasade made (never one
 * given by `roleArn` or a function's own); the app's bucket, emptied. In a shared bucket only the
 * app's objects go (`faasade/<env>/<app>/`: manifest and settings) and never the bucket; its
 * calls' objects expire by the bucket's own lifecycle, since a call's objects do not say which
 * app made them. An app that is not deployed there is `NotFoundError`.
 */
export async function destroyAws(app: string, environment: string, options: AwsDeployOptions = {}): Promise<void> {
  const ctx = await deployContext(options);
  const scope = appScope(ctx, app, environment);
  const { bucket, shared, manifestKey, ref } = scope;
  const manifest = await readManifest(ctx, scope);
  if (manifest === undefined) {
    throw new NotFoundError(
      `app ${JSON.stringify(app)} (environment ${JSON.stringify(environment)}) is not deployed on aws with prefix ${JSON.stringify(ctx.prefix)} (no s3://${bucket}/${manifestKey})`,
    );
  }
  for (const fn of manifest.functions) await removeFunction(ctx, scope, fn.name);
  if (options.roleArn === undefined) await removeRole(ctx, roleName(ref));
  // The manifest goes last: a destroy stopped half way finds the app again.
  const within = shared === undefined ? "" : manifestKey.slice(0, -"manifest.json".length);
  ctx.log(shared === undefined ? `emptying and removing ${bucket}` : `removing s3://${bucket}/${within}`);
  await removeObjects(ctx, bucket, within, manifestKey);
  const s3 = await ctx.sdk.s3();
  await remove(`DeleteObject ${manifestKey}`, () => s3.send(new ctx.S.DeleteObjectCommand({ Bucket: bucket, Key: manifestKey })));
  if (shared === undefined)
    await remove(`DeleteBucket ${bucket}`, () => s3.send(new ctx.S.DeleteBucketCommand({ Bucket: bucket })));
}

/** What a provider capability hands destroy: the app, its environment, and the options its deploy used. */
export type DestroyAws = typeof destroyAws;
