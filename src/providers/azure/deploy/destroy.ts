/**
 * `faasade destroy <app> --provider azure`: removes what deploy made for an app, found with the same
 * options deploy took (subscription, resource group, prefix, storage, endpoints, credentials): per
 * function its function app, plan, queues and deployment container; then the app's lifecycle rule and
 * its container, the manifest last, so that a destroy stopped half way finds the app again.
 */
import { NotFoundError } from "../../../core/errors.js";
import { azureCall } from "../clients.js";
import { type AppRef, containerName, siteName } from "../names.js";
import { type AzureDeployContext, type AzureDeployOptions, appRef, deployContext } from "./context.js";
import { ensureLifecycleRule, manifestKey, readManifest, removeContainer, removeQueues } from "./storage.js";

/** Deletes a function's app, then its plan, queues and deployment container; missing ones are fine. */
export async function removeFunction(ctx: AzureDeployContext, ref: AppRef, fn: string): Promise<void> {
  const web = await ctx.sdk.web();
  const site = siteName(ref, fn);
  const { resourceGroup } = ctx.options;
  ctx.log(`removing the function app ${site}`);
  // ARM answers 204 for a site or plan that is already gone.
  await azureCall(`delete the function app ${site}`, () => web.webApps.delete(resourceGroup, site));
  await azureCall(`delete the plan ${site}`, () => web.appServicePlans.delete(resourceGroup, site));
  await removeQueues(ctx, ref, fn);
  await removeContainer(ctx, site);
}

/** Removes every function of the app's manifest, then its rule and container; an app not deployed there is NotFoundError. */
export async function destroyAzure(app: string, environment: string, options: AzureDeployOptions = {}): Promise<void> {
  const ctx = deployContext(options, false);
  const ref = appRef(ctx, app, environment);
  const manifest = await readManifest(ctx, ref);
  const container = containerName(ref);
  if (manifest === undefined)
    throw new NotFoundError(
      `app ${JSON.stringify(app)} (environment ${JSON.stringify(environment)}) is not deployed on azure with prefix ${JSON.stringify(ref.prefix)} (no ${container}/${manifestKey(ref)} in the storage account ${ctx.sdk.accountName})`,
    );
  for (const fn of manifest.functions) await removeFunction(ctx, ref, fn.name);
  await ensureLifecycleRule(ctx, container, undefined);
  ctx.log(`removing the container ${container}`);
  await removeContainer(ctx, container);
}
