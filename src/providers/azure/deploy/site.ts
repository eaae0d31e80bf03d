/**
 * One function's hosting, idempotently: its plan (Flex Consumption FC1, or Elastic Premium EP1–3) and its
 * function app (kind "functionapp,linux"), read first and PUT only when what faasade sets differs. The app
 * is tagged with the app, function, environment and the hash of the code last published to it (set only
 * after a publish succeeded, so that an interrupted deploy publishes again).
 */
import type { AppServicePlan, Site } from "@azure/arm-appservice";
import { azureCall, isNotFound } from "../clients.js";
import type { AppRef } from "../names.js";
import { HTTP_GROUP } from "../sites-api.js";
import { type AzureDeployContext, resourceId } from "./context.js";
import type { AzureSettings } from "./function-options.js";

/** Tags are how a deploy (and `faasade ls`) knows what is there. */
export const TAGS = { app: "faasade-app", environment: "faasade-env", fn: "faasade-function", code: "faasade-code" } as const;
/** The app setting holding the deployment container's connection string (Flex, by connection string). */
export const DEPLOYMENT_STORAGE_SETTING = "DEPLOYMENT_STORAGE_CONNECTION_STRING";

export interface SitePlan {
  ref: AppRef;
  fn: string;
  /** The function app's (and its plan's and deployment container's) name. */
  site: string;
  settings: AzureSettings;
  /** Flex: the deployment container's URL. */
  deploymentContainer: string;
}

export const isFlex = (ctx: AzureDeployContext) => ctx.options.plan === "flex";
const byIdentity = (ctx: AzureDeployContext) => "accountName" in ctx.options.storage;

/** Tag values: Azure allows 256 characters. */
const tagValue = (text: string) => text.slice(0, 256);

const tagsOf = (plan: SitePlan, code: string | undefined): Record<string, string> => ({
  [TAGS.app]: tagValue(plan.ref.app),
  [TAGS.environment]: tagValue(plan.ref.environment),
  [TAGS.fn]: tagValue(plan.fn),
  ...(code === undefined ? {} : { [TAGS.code]: code }),
});

function planBody(ctx: AzureDeployContext, plan: SitePlan): AppServicePlan {
  if (isFlex(ctx))
    return {
      location: ctx.region,
      kind: "functionapp",
      sku: { name: "FC1", tier: "FlexConsumption" },
      reserved: true,
      tags: tagsOf(plan, undefined),
    };
  return {
    location: ctx.region,
    kind: "elastic",
    sku: { name: plan.settings.premiumSku, tier: "ElasticPremium" },
    reserved: true,
    maximumElasticWorkerCount: plan.settings.premiumMaxInstances,
    tags: tagsOf(plan, undefined),
  };
}

/** The plan, made when missing or when its size differs; true when it was PUT. */
export async function ensurePlan(ctx: AzureDeployContext, plan: SitePlan): Promise<boolean> {
  const web = await ctx.sdk.web();
  const { resourceGroup } = ctx.options;
  const found = await azureCall(`get the plan ${plan.site}`, () => orMissing(web.appServicePlans.get(resourceGroup, plan.site)));
  const body = planBody(ctx, plan);
  const same =
    found !== undefined &&
    found.sku?.name === body.sku?.name &&
    (isFlex(ctx) || found.maximumElasticWorkerCount === body.maximumElasticWorkerCount);
  if (same) return false;
  ctx.log(`${found === undefined ? "creating" : "updating"} the plan ${plan.site}`);
  await azureCall(`create the plan ${plan.site}`, () =>
    web.appServicePlans.createOrUpdate(resourceGroup, plan.site, body, { updateIntervalInMs: ctx.pollMs }),
  );
  return true;
}

/** What faasade sets on the function app, beside its tags. */
export function siteFields(ctx: AzureDeployContext, plan: SitePlan): Site {
  const s = plan.settings;
  const common: Site = {
    location: ctx.region,
    kind: "functionapp,linux",
    serverFarmId: resourceId(ctx, "Microsoft.Web/serverfarms", plan.site),
    reserved: true,
    httpsOnly: true,
    ...(byIdentity(ctx) ? { identity: { type: "SystemAssigned" } } : {}),
  };
  if (!isFlex(ctx))
    return {
      ...common,
      siteConfig: {
        linuxFxVersion: "Node|22",
        minimumElasticInstanceCount: s.alwaysReady,
        functionAppScaleLimit: s.premiumMaxInstances,
      },
    };
  const authentication = byIdentity(ctx)
    ? { type: "SystemAssignedIdentity" as const }
    : { type: "StorageAccountConnectionString" as const, storageAccountConnectionStringName: DEPLOYMENT_STORAGE_SETTING };
  return {
    ...common,
    functionAppConfig: {
      runtime: { name: "node", version: "22" },
      deployment: { storage: { type: "blobContainer", value: plan.deploymentContainer, authentication } },
      scaleAndConcurrency: {
        maximumInstanceCount: s.maximumInstanceCount,
        instanceMemoryMB: s.instanceMemoryMb,
        alwaysReady: s.alwaysReady > 0 ? [{ name: HTTP_GROUP, instanceCount: s.alwaysReady }] : [],
        triggers: { http: { perInstanceConcurrency: s.httpConcurrency } },
      },
    },
  };
}

export interface FoundSite {
  site: Site | undefined;
  /** The code hash it was tagged with (the last publish that succeeded). */
  code: string | undefined;
}

export async function readSite(ctx: AzureDeployContext, name: string): Promise<FoundSite> {
  const web = await ctx.sdk.web();
  const { resourceGroup } = ctx.options;
  const site = await azureCall(`get the function app ${name}`, () => orMissing(web.webApps.get(resourceGroup, name)));
  if (site === undefined || isFlex(ctx)) return { site, code: site?.tags?.[TAGS.code] };
  // A site's GET need not carry its whole siteConfig: Premium's settings are read from config/web.
  const config = await azureCall(`get the web config of ${name}`, () => web.webApps.getConfiguration(resourceGroup, name));
  const { id: _id, name: _name, type: _type, kind: _kind, ...siteConfig } = config;
  return { site: { ...site, siteConfig: { ...site.siteConfig, ...siteConfig } }, code: site.tags?.[TAGS.code] };
}

/**
 * The function app as faasade sets it, tagged with `code` (the hash of the code it runs); PUT only when
 * something differs. Answers the site as ARM has it.
 */
export async function ensureSite(
  ctx: AzureDeployContext,
  plan: SitePlan,
  found: Site | undefined,
  code: string | undefined,
  /** Set with a new app, so that what its deployment storage names exists from the start. */
  appSettings: Record<string, string> = {},
): Promise<{ site: Site; changed: boolean }> {
  const fields = siteFields(ctx, plan);
  const tags = { ...found?.tags, ...tagsOf(plan, code) };
  if (found !== undefined && sameSite(found, fields) && sameJson(found.tags ?? {}, tags)) return { site: found, changed: false };
  const web = await ctx.sdk.web();
  ctx.log(`${found === undefined ? "creating" : "updating"} the function app ${plan.site}`);
  // A PUT is the whole site: what ARM has is kept, faasade's fields set over it.
  const body: Site = { ...found, ...fields, tags };
  if (found === undefined)
    body.siteConfig = { ...body.siteConfig, appSettings: Object.entries(appSettings).map(([name, value]) => ({ name, value })) };
  const site = await azureCall(`create the function app ${plan.site}`, () =>
    web.webApps.createOrUpdate(ctx.options.resourceGroup, plan.site, body, { updateIntervalInMs: ctx.pollMs }),
  );
  return { site, changed: true };
}

/** Whether what is deployed has every field faasade sets, with the same value. */
function sameSite(found: Site, fields: Site): boolean {
  const { serverFarmId, identity, siteConfig, ...rest } = fields;
  if (String(found.serverFarmId).toLowerCase() !== String(serverFarmId).toLowerCase()) return false;
  if (identity !== undefined && found.identity?.type !== identity.type) return false;
  for (const [key, value] of Object.entries(siteConfig ?? {}))
    if (!sameJson((found.siteConfig as Record<string, unknown> | undefined)?.[key], value)) return false;
  return Object.entries(rest).every(([key, value]) => sameJson((found as unknown as Record<string, unknown>)[key], value));
}

/** A read whose 404 is undefined. */
export async function orMissing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function sameJson(a: unknown, b: unknown): boolean {
  const sorted = (v: unknown): unknown =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, w]) => w !== undefined)
            .sort(([x], [y]) => (x < y ? -1 : 1))
            .map(([k, w]) => [k, sorted(w)]),
        )
      : Array.isArray(v)
        ? v.map(sorted)
        : v;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}
