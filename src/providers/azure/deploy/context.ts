/** What every Azure deploy step shares: the resolved options, the clients, the region, the log. */
import type { StorageManagementClient } from "@azure/arm-storage";
import { lazyClient } from "../../../cloud/lazy-client.js";
import { InvalidError } from "../../../core/errors.js";
import { type AzureClients, armOptions, azureClients } from "../clients.js";
import type { AppRef } from "../names.js";
import { type AzureOptions, type ResolvedAzureOptions, resolveAzureOptions } from "../options.js";

export interface AzureDeployOptions extends AzureOptions {
  /** Progress lines (the CLI's spinner). */
  log?: (line: string) => void;
  /** Memory of a function that sets none (Flex rounds it up to 512, 2048 or 4096). @default 2048 */
  memoryMb?: number;
  /** Packages to install into the bundle instead of inlining them. */
  external?: string[];
  /** A CA to trust beside the system's (a loopback ARM stand-in's certificate; tests). */
  ca?: string;
  /** How often a long-running operation or a deployment's status is polled. @default 2000 */
  pollMs?: number;
}

export interface AzureDeployContext {
  options: ResolvedAzureOptions;
  sdk: AzureClients;
  /** The storage account's control plane (its lifecycle policy), which only deploy reaches. */
  storageAccounts(): Promise<StorageManagementClient>;
  /** Where function apps and plans are made (`region` is required to deploy). */
  region: string;
  memoryMb: number;
  pollMs: number;
  /** The CA the clients trust beside the system's (also for the SCM host). */
  ca: string | undefined;
  log: (line: string) => void;
}

/** The context of a deploy; `needRegion` false for destroy and list, which find apps by name. */
export function deployContext(options: AzureDeployOptions, needRegion = true): AzureDeployContext {
  const { log, memoryMb, external: _external, ca, pollMs, ...provider } = options;
  const resolved = resolveAzureOptions(provider);
  if (needRegion && resolved.region === undefined)
    throw new InvalidError(
      'azure: deploying needs a region: set FAASADE_AZURE_REGION (or AZURE_LOCATION), or pass azure({ region: "westeurope" })',
    );
  const sdk = azureClients({
    subscriptionId: resolved.subscriptionId,
    storage: resolved.storage,
    credential: resolved.credential,
    endpoints: resolved.endpoints,
    ca,
  });
  return {
    options: resolved,
    sdk,
    storageAccounts: lazyClient("azure", "@azure/arm-storage", async () => {
      const { StorageManagementClient } = await import("@azure/arm-storage");
      return new StorageManagementClient(await sdk.credential(), resolved.subscriptionId, armOptions(resolved.endpoints, ca));
    }),
    region: resolved.region ?? "",
    memoryMb: memoryMb ?? 2048,
    pollMs: pollMs ?? 2000,
    ca,
    log: log ?? (() => {}),
  };
}

/** Where an app's things are (names.ts), from the options deploy and destroy were given. */
export function appRef(ctx: AzureDeployContext, app: string, environment: string): AppRef {
  const { prefix, subscriptionId, resourceGroup } = ctx.options;
  return { prefix, subscriptionId, resourceGroup, app, environment };
}

/** The ARM id of a resource of the resource group. */
export const resourceId = (ctx: AzureDeployContext, type: string, name: string) =>
  `/subscriptions/${ctx.options.subscriptionId}/resourceGroups/${ctx.options.resourceGroup}/providers/${type}/${name}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
