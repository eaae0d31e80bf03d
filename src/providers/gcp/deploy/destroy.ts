/**
 * `faasade destroy <app> --provider gcp`: removes what deploy made for an app, found with the
 * same options deploy took (project, region, prefix, bucket, endpoints, credentials).
 */
import { NotFoundError } from "../../../core/errors.js";
import { gcpCall, isNotFound } from "../clients.js";
import { type AppRef, bucketName, functionPath } from "../names.js";
import { manifestKey, readManifest, removeBucket } from "./bucket.js";
import { type GcpDeployContext, type GcpDeployOptions, appRef, deployContext } from "./context.js";
import { removeQueue } from "./queue.js";

/** Deletes a function (waiting for the operation) and its queue; missing ones are fine. */
export async function removeFunction(ctx: GcpDeployContext, ref: AppRef, fn: string): Promise<void> {
  const functions = await ctx.sdk.functions();
  const name = functionPath(ref, fn);
  ctx.log(`removing the function ${fn}`);
  await gcpCall(`DeleteFunction ${name}`, async () => {
    try {
      const [op] = await functions.deleteFunction({ name });
      await op.promise();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  });
  await removeQueue(ctx, ref, fn);
}

/**
 * Removes every function of the app's manifest with its queue, then the app's bucket, emptied
 * (in a shared bucket only the app's own objects: see removeBucket). An app that is not
 * deployed there is `NotFoundError`; a function or queue already gone is no error.
 */
export async function destroyGcp(app: string, environment: string, options: GcpDeployOptions = {}): Promise<void> {
  const ctx = deployContext(options);
  const ref = appRef(ctx, app, environment);
  const manifest = await readManifest(ctx, ref);
  if (manifest === undefined) {
    throw new NotFoundError(
      `app ${JSON.stringify(app)} (environment ${JSON.stringify(environment)}) is not deployed on gcp with prefix ${JSON.stringify(ref.prefix)} (no gs://${bucketName(ref)}/${manifestKey(ref)})`,
    );
  }
  for (const fn of manifest.functions) await removeFunction(ctx, ref, fn.name);
  ctx.log(ref.bucket === undefined ? `emptying and removing the bucket ${bucketName(ref)}` : `removing the app's objects`);
  await removeBucket(ctx, ref);
}
