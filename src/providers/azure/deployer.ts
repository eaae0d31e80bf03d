/** The deployment capability of the azure provider: what `faasade deploy/destroy/ls --provider azure` call. */
import { cloudDeployer } from "../../cloud/apps.js";
import type { AppManifest } from "../../core/manifest.js";
import type { DeployedApp, Deployer } from "../../core/provider.js";
import { azureCall } from "./clients.js";
import { type AzureDeployOptions, appRef, deployContext } from "./deploy/context.js";
import { deployAzure, destroyAzure } from "./deploy/resources.js";
import { TAGS } from "./deploy/site.js";
import { manifestBlob, manifestKey } from "./deploy/storage.js";
import { containerName } from "./names.js";

export type { AzureDeployOptions } from "./deploy/context.js";

export const azureDeployer = (options: AzureDeployOptions): Deployer =>
  cloudDeployer(options, { deploy: deployAzure, destroy: destroyAzure, list: listAzure });

/**
 * The apps deployed with these options: the apps and environments the resource group's function apps are
 * tagged with (under this prefix), each with the manifest of its container.
 */
export async function listAzure(options: AzureDeployOptions): Promise<DeployedApp[]> {
  const ctx = deployContext(options, false);
  const web = await ctx.sdk.web();
  const pairs = new Map<string, { app: string; environment: string }>();
  await azureCall(`list the function apps of ${ctx.options.resourceGroup}`, async () => {
    for await (const site of web.webApps.listByResourceGroup(ctx.options.resourceGroup)) {
      const app = site.tags?.[TAGS.app];
      const environment = site.tags?.[TAGS.environment];
      if (app !== undefined && environment !== undefined) pairs.set(`${environment}/${app}`, { app, environment });
    }
  });
  const out: DeployedApp[] = [];
  for (const { app, environment } of pairs.values()) {
    const ref = appRef(ctx, app, environment);
    const found = await manifestBlob(ctx, containerName(ref), manifestKey(ref));
    if (found === undefined) continue; // another prefix's app, or one half destroyed
    const manifest = JSON.parse(found.text) as AppManifest;
    out.push({ ...manifest, deployedAt: found.modifiedAt });
  }
  return out;
}
