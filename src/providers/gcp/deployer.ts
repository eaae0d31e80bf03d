/** The deployment capability of the gcp provider: what `faasade deploy/destroy/ls --provider gcp` call. */
import { byManifestOrder, listApps } from "../../cloud/apps.js";
import type { DeployedApp, Deployer } from "../../core/provider.js";
import { type GcpDeployOptions, appRef, deployContext } from "./deploy/context.js";
import { deployGcp, destroyGcp } from "./deploy/resources.js";
import { bucketsOfPrefix, gcsStore } from "./gcs-store.js";
import { bucketName } from "./names.js";

export function gcpDeployer(options: GcpDeployOptions): Deployer {
  return {
    async deploy(module, apps, { log } = {}) {
      const deployed = await deployGcp(module, apps, { ...options, ...(log ? { log } : {}) });
      return byManifestOrder(apps, deployed);
    },
    destroy: (app, environment, { log } = {}) => destroyGcp(app, environment, { ...options, ...(log ? { log } : {}) }),
    list: () => listGcp(options),
  };
}

/** The apps deployed with these options: the shared bucket's, or those of every bucket named `<prefix>-...`. */
export async function listGcp(options: GcpDeployOptions): Promise<DeployedApp[]> {
  const ctx = deployContext(options);
  const { bucket: shared, prefix } = ctx.options;
  if (shared !== undefined) return listApps([{ store: gcsStore(ctx.sdk, shared), ref: { name: shared, prefix: "faasade/" } }]);
  const out: DeployedApp[] = [];
  for (const name of await bucketsOfPrefix(ctx.sdk, prefix)) {
    const found = await listApps([{ store: gcsStore(ctx.sdk, name), ref: { name, prefix: "" } }]);
    // "faasade-" also begins the buckets of a prefix "faasade-dev": only this prefix's own are kept.
    out.push(...found.filter((a) => bucketName(appRef(ctx, a.app, a.environment)) === name));
  }
  return out;
}
