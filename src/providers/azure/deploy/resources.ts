/**
 * `faasade deploy <file> --provider azure`: makes or updates, idempotently, what an app needs on Azure,
 * and converges: what the app no longer has goes. Every step reads first and writes only what differs, so
 * a second deploy of the same code sends nothing but reads. Every function's settings are checked before
 * anything is made. Per app: its blob container with its lifecycle rule, the manifest; per function: its
 * queues, its deployment container, plan and function app (site.ts), app settings (settings.ts) and, when
 * the code's hash differs from the app's tag, the code (publish.ts). destroy.ts removes it all.
 */
import { type Bundle, bundle } from "../../../cloud/bundle.js";
import type { AppManifest, FunctionManifest } from "../../../core/manifest.js";
import { type AppRef, containerName, siteName } from "../names.js";
import { FLEX_MAX_INSTANCES } from "../sites-api.js";
import { type AzureDeployContext, type AzureDeployOptions, appRef, deployContext } from "./context.js";
import { removeFunction } from "./destroy.js";
import { azureBundle, withHostJson } from "./entry.js";
import { type AzureSettings, azureSettings } from "./function-options.js";
import { publish } from "./publish.js";
import { appSettings, ensureAppSettings } from "./settings.js";
import { type SitePlan, ensurePlan, ensureSite, isFlex, readSite } from "./site.js";
import { ensureContainer, ensureLifecycleRule, ensureQueues, lifecycleRule, putManifest, readManifest } from "./storage.js";

export type { AzureDeployOptions } from "./context.js";
export { destroyAzure } from "./destroy.js";

/** Builds the app's bundle: deployAzure bundles the module; contract tests pass a stand-in. */
export type Bundler = () => Promise<Bundle>;

export interface DeployedAzureFunction {
  app: string;
  name: string;
  /** The function app's ARM id. */
  resource: string;
  /** `https://<defaultHostName>/` of a web function. */
  webUrl: string | undefined;
  /** What was written: the plan, the site, its settings, its code. */
  changed: { plan: boolean; site: boolean; settings: boolean; code: boolean };
}

/** Deploys the apps defined by `module` (their manifests, as the CLI makes them). */
export function deployAzure(
  module: string,
  apps: AppManifest[],
  options: AzureDeployOptions = {},
): Promise<DeployedAzureFunction[]> {
  return deployApps(apps, options, () => bundle(azureBundle(module, options.external)));
}

interface AppPlan {
  app: AppManifest;
  settings: Map<string, AzureSettings>;
}

/** deployAzure with the bundling step given: checks everything, bundles once, deploys app by app. */
export async function deployApps(
  apps: AppManifest[],
  options: AzureDeployOptions,
  bundler: Bundler,
): Promise<DeployedAzureFunction[]> {
  const ctx = deployContext(options);
  const plans: AppPlan[] = apps.map((app) => ({
    app,
    settings: new Map(app.functions.map((fn) => [fn.name, azureSettings(fn, { memoryMb: ctx.memoryMb })])),
  }));
  ctx.log("bundling");
  const code = await bundler();
  const out: DeployedAzureFunction[] = [];
  for (const plan of plans) out.push(...(await deployApp(ctx, plan, code)));
  return out;
}

async function deployApp(ctx: AzureDeployContext, { app, settings }: AppPlan, code: Bundle): Promise<DeployedAzureFunction[]> {
  const ref = appRef(ctx, app.app, app.environment);
  const container = containerName(ref);
  await ensureContainer(ctx, container);
  await ensureLifecycleRule(ctx, container, lifecycleRule(container, ctx.options.retentionMs));
  // Functions the app no longer has go while the old manifest still lists them: an interrupted deploy finds them again.
  const previous = await readManifest(ctx, ref);
  const names = new Set(app.functions.map((f) => f.name));
  for (const old of previous?.functions ?? []) if (!names.has(old.name)) await removeFunction(ctx, ref, old.name);
  await putManifest(ctx, ref, app);
  const out: DeployedAzureFunction[] = [];
  for (const fn of app.functions) out.push(await deployFunction(ctx, ref, fn, settings.get(fn.name) as AzureSettings, code));
  return out;
}

async function deployFunction(
  ctx: AzureDeployContext,
  ref: AppRef,
  fn: FunctionManifest,
  s: AzureSettings,
  appCode: Bundle,
): Promise<DeployedAzureFunction> {
  const site = siteName(ref, fn.name);
  const asked = fn.options.maxContainers;
  if (isFlex(ctx) && asked !== undefined && (asked < FLEX_MAX_INSTANCES.min || asked > FLEX_MAX_INSTANCES.max))
    ctx.log(`${fn.name}: maxContainers ${asked} is outside Flex's 40–1000 maximum instances: ${s.maximumInstanceCount} it is`);
  await ensureQueues(ctx, ref, fn.name);
  // Flex keeps the package in a container of the app's own; Premium runs the zip it is sent.
  const deploymentContainer = isFlex(ctx) ? await ensureContainer(ctx, site) : "";
  const plan: SitePlan = { ref, fn: fn.name, site, settings: s, deploymentContainer };
  const code = await withHostJson(appCode, s);
  const settings = appSettings(ctx, ref, fn, s);
  const planChanged = await ensurePlan(ctx, plan);
  const found = await readSite(ctx, site);
  // The code tag stays as it was until the new code is published.
  let made = await ensureSite(ctx, plan, found.site, found.code, settings);
  const settingsChanged = await ensureAppSettings(ctx, site, settings);
  const codeChanged = found.code !== code.hash;
  if (codeChanged) {
    await publish(ctx, made.site, code.zip, ctx.ca);
    const tagged = await ensureSite(ctx, plan, made.site, code.hash);
    made = { site: tagged.site, changed: made.changed || tagged.changed };
  }
  const host = made.site.defaultHostName;
  return {
    app: ref.app,
    name: fn.name,
    resource: String(made.site.id),
    webUrl: s.web === undefined || !host ? undefined : `https://${host}/`,
    changed: { plan: planChanged, site: made.changed, settings: settingsChanged, code: codeChanged },
  };
}
