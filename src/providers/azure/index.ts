/**
 * @module
 * The Azure provider (`faasade/azure`): Azure Functions (Flex Consumption, or Elastic Premium), Storage Queues
 * for spawned inputs, Blob Storage for results. The cloud layer (src/cloud/) does the work; platform.ts names
 * Azure's parts for it. docs/azure.md.
 */
import { lazyDeployer } from "../../cloud/provider.js";
import { type AzureProvider, azureProvider } from "./platform.js";
import type { AzureDeployOptions } from "./deploy/context.js";

export type { AzureEndpoints, AzureOptions, AzurePlan, AzureStorage } from "./options.js";
export type { AzureProvider } from "./platform.js";
export type { AzureDeployOptions } from "./deploy/context.js";
export type { AzureFunctionOptions } from "./deploy/function-options.js";

export function azure(options: AzureDeployOptions = {}): AzureProvider {
  const { log: _log, memoryMb: _memoryMb, external: _external, ca, pollMs: _pollMs, ...providerOptions } = options; // deploy-only options
  // Deploying (bundling, the control plane) loads only when asked for.
  const deployer = lazyDeployer(async () => (await import("./deployer.js")).azureDeployer(options));
  return azureProvider(providerOptions, deployer, ca === undefined ? {} : { ca });
}

/** `FAASADE_PROVIDER=azure`: the provider with its defaults from the environment. */
export const defaultProvider = (): AzureProvider => azure();
