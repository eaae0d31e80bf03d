/**
 * A function app's app settings: the runtime's variables (which function it is, where its queue and
 * storage are, the provider's options as `azure()` reads them from the environment, so that calls made
 * inside a function go to this cloud), the Functions host's own, and the function's `env`. Listed first
 * and PUT only when they differ; settings Azure itself adds (Application Insights) are kept.
 */
import type { FunctionManifest } from "../../../core/manifest.js";
import { azureCall } from "../clients.js";
import { type AppRef, queueName } from "../names.js";
import type { AzureDeployContext } from "./context.js";
import type { AzureSettings } from "./function-options.js";
import { DEPLOYMENT_STORAGE_SETTING, isFlex, sameJson } from "./site.js";

/** Settings a user or Azure adds to an app that a deploy leaves in place. */
const KEPT = ["APPLICATIONINSIGHTS_CONNECTION_STRING", "APPINSIGHTS_INSTRUMENTATIONKEY"];

/** The storage variables: a connection string, or the account reached with the app's managed identity. */
function storageSettings(ctx: AzureDeployContext): Record<string, string> {
  const storage = ctx.options.storage;
  if ("connectionString" in storage) {
    const { connectionString } = storage;
    return {
      FAASADE_AZURE_STORAGE: connectionString,
      AzureWebJobsStorage: connectionString,
      ...(isFlex(ctx) ? { [DEPLOYMENT_STORAGE_SETTING]: connectionString } : {}),
    };
  }
  return { FAASADE_AZURE_STORAGE__accountName: storage.accountName, AzureWebJobsStorage__accountName: storage.accountName };
}

export function appSettings(
  ctx: AzureDeployContext,
  ref: AppRef,
  fn: FunctionManifest,
  s: AzureSettings,
): Record<string, string> {
  // Premium runs the zip it was given, built during the deploy; Flex manages its package itself (never WEBSITE_RUN_FROM_PACKAGE).
  const host = isFlex(ctx)
    ? {}
    : {
        FUNCTIONS_WORKER_RUNTIME: "node",
        FUNCTIONS_EXTENSION_VERSION: "~4",
        WEBSITE_RUN_FROM_PACKAGE: "1",
        SCM_DO_BUILD_DURING_DEPLOYMENT: "true",
      };
  return {
    ...s.environment,
    ...host,
    ...storageSettings(ctx),
    FAASADE_PROVIDER: "azure",
    FAASADE_APP: ref.app,
    FAASADE_ENVIRONMENT: ref.environment,
    FAASADE_FUNCTION: fn.name,
    FAASADE_AZURE_QUEUE: queueName(ref, fn.name),
    FAASADE_AZURE_TIMEOUT_MS: String(fn.options.timeoutMs),
    ...(s.web === undefined ? {} : { FAASADE_AZURE_WEB: s.web }),
    AZURE_SUBSCRIPTION_ID: ref.subscriptionId,
    FAASADE_AZURE_RESOURCE_GROUP: ref.resourceGroup,
    FAASADE_AZURE_PREFIX: ref.prefix,
    FAASADE_AZURE_RETENTION_MS: String(ctx.options.retentionMs),
    FAASADE_AZURE_PLAN: ctx.options.plan,
  };
}

/** Sets the app's settings unless they are already so; true when they were PUT. */
export async function ensureAppSettings(ctx: AzureDeployContext, site: string, wanted: Record<string, string>): Promise<boolean> {
  const web = await ctx.sdk.web();
  const { resourceGroup } = ctx.options;
  const found = await azureCall(`list the app settings of ${site}`, () =>
    web.webApps.listApplicationSettings(resourceGroup, site),
  );
  const kept = Object.fromEntries(Object.entries(found.properties ?? {}).filter(([name]) => KEPT.includes(name)));
  const properties = { ...kept, ...wanted };
  if (sameJson(found.properties ?? {}, properties)) return false;
  ctx.log(`setting the app settings of ${site}`);
  await azureCall(`set the app settings of ${site}`, () =>
    web.webApps.updateApplicationSettings(resourceGroup, site, { properties }),
  );
  return true;
}
