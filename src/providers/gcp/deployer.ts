/** The deployment capability of the gcp provider: what `faasade deploy/destroy/ls --provider gcp` call. */
import { cloudDeployer, listAppBuckets } from "../../cloud/apps.js";
import type { DeployedApp, Deployer } from "../../core/provider.js";
import { type GcpDeployOptions, appRef, deployContext } from "./deploy/context.js";
import { deployGcp, destroyGcp } from "./deploy/resources.js";
import { bucketsOfPrefix, gcsStore } from "./gcs-store.js";
import { bucketName } from "./names.js";

export const gcpDeployer = (options: GcpDeployOptions): Deployer =>
  cloudDeployer(options, { deploy: deployGcp, destroy: destroyGcp, list: listGcp });

/** The apps deployed with these options: the shared bucket's, or those of every bucket named `<prefix>-...`. */
export function listGcp(options: GcpDeployOptions): Promise<DeployedApp[]> {
  const ctx = deployContext(options);
  const { bucket, prefix } = ctx.options;
  const isOwn = (a: DeployedApp, name: string) => bucketName(appRef(ctx, a.app, a.environment)) === name;
  return listAppBuckets(
    bucket,
    () => bucketsOfPrefix(ctx.sdk, prefix),
    (name) => gcsStore(ctx.sdk, name),
    isOwn,
  );
}
