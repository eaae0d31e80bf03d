/** What faasade reads and changes of a deployed function app through ARM (Microsoft.Web/sites). */
import type { AutoscalerKey, AutoscalerSettings } from "../../core/provider.js";
import { type AzureClients, azureCall } from "./clients.js";

/** What a deployed function app is reached by, and its warm instances. */
export interface DeployedSite {
  hostName: string;
  /** Flex: the always-ready instances of its HTTP functions; Premium: the app's minimum elastic instances. */
  alwaysReady: number;
  flex: boolean;
}

/** Flex Consumption's range of maximum instances per scale group. */
export const FLEX_MAX_INSTANCES = { min: 40, max: 1000, default: 100 } as const;
/** `maxContainers` within Flex's range (documented: below 40 Flex cannot cap, so 40). */
export const flexMaximum = (asked: number) => Math.min(FLEX_MAX_INSTANCES.max, Math.max(FLEX_MAX_INSTANCES.min, asked));
/** Flex's always-ready scale group of every HTTP-triggered function of an app (faasade's entry and web function). */
export const HTTP_GROUP = "http";

export async function readSite(sdk: AzureClients, resourceGroup: string, site: string): Promise<DeployedSite> {
  const web = await sdk.web();
  const found = await azureCall(`get function app ${site}`, () => web.webApps.get(resourceGroup, site));
  if (!found.defaultHostName) throw new Error(`azure function app ${site} has no host name yet (state ${String(found.state)})`);
  const flex = found.functionAppConfig !== undefined;
  const ready = found.functionAppConfig?.scaleAndConcurrency?.alwaysReady?.find((r) => r.name === HTTP_GROUP);
  return {
    hostName: found.defaultHostName,
    alwaysReady: Number((flex ? ready?.instanceCount : found.siteConfig?.minimumElasticInstanceCount) ?? 0),
    flex,
  };
}

/** The app's default host key: it calls every function of the app whose level is "function". */
export async function hostKey(sdk: AzureClients, resourceGroup: string, site: string): Promise<string> {
  const web = await sdk.web();
  const keys = await azureCall(`list the host keys of function app ${site}`, () => web.webApps.listHostKeys(resourceGroup, site));
  const key = keys.functionKeys?.default ?? keys.masterKey;
  if (!key) throw new Error(`azure function app ${site} has no host key yet`);
  return key;
}

/**
 * keepWarm and the autoscaler: Flex's always-ready instances of the app's HTTP group and its maximum
 * instances (within Flex's range); Premium's minimum elastic instances (app-wide, docs/azure.md).
 */
export async function setAlwaysReady(
  sdk: AzureClients,
  resourceGroup: string,
  site: string,
  settings: AutoscalerSettings,
): Promise<{ maxContainers: number; unsupported: AutoscalerKey[] }> {
  const web = await sdk.web();
  const found = await azureCall(`get function app ${site}`, () => web.webApps.get(resourceGroup, site));
  // Azure keeps no idle buffer beside busy instances, and scales idle ones in on its own clock.
  const unsupported: AutoscalerKey[] = ["bufferContainers", "scaledownWindowMs"];
  const config = found.functionAppConfig;
  if (config === undefined) {
    const siteConfig = { ...found.siteConfig, minimumElasticInstanceCount: settings.minContainers };
    await azureCall(`update function app ${site} (minimum instances)`, () =>
      web.webApps.update(resourceGroup, site, { siteConfig }),
    );
    return { maxContainers: settings.maxContainers ?? Number(found.siteConfig?.functionAppScaleLimit ?? 20), unsupported };
  }
  const asked = settings.maxContainers ?? FLEX_MAX_INSTANCES.default;
  const maximumInstanceCount = flexMaximum(asked);
  if (maximumInstanceCount !== asked) unsupported.push("maxContainers");
  const others = (config.scaleAndConcurrency?.alwaysReady ?? []).filter((r) => r.name !== HTTP_GROUP);
  const alwaysReady =
    settings.minContainers > 0 ? [...others, { name: HTTP_GROUP, instanceCount: settings.minContainers }] : others;
  const functionAppConfig = {
    ...config,
    scaleAndConcurrency: { ...config.scaleAndConcurrency, alwaysReady, maximumInstanceCount },
  };
  // A site PATCH cannot carry functionAppConfig (Microsoft.Web's SitePatchResource): the site is PUT whole.
  await azureCall(`update function app ${site} (always-ready instances)`, () =>
    web.webApps.beginCreateOrUpdateAndWait(resourceGroup, site, { ...found, functionAppConfig }),
  );
  return { maxContainers: maximumInstanceCount, unsupported };
}
