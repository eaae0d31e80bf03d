/**
 * @module
 * The Google Cloud provider (`faasade/gcp`): Cloud Functions (2nd gen), Cloud Tasks for spawned inputs, Cloud Storage
 * for results. The cloud layer (src/cloud/) does the work; platform.ts names Google's parts for it. docs/gcp.md.
 */
import { lazyDeployer } from "../../cloud/provider.js";
import type { GcpDeployOptions } from "./deploy/context.js";
import { type GcpProvider, gcpProvider } from "./platform.js";

export type { GcpOptions, GcpRuntime } from "./options.js";
export type { GcpDeployOptions } from "./deploy/context.js";
export type { GcpProvider } from "./platform.js";
export type { GcpFunctionOptions } from "./deploy/function-options.js";

export function gcp(options: GcpDeployOptions = {}): GcpProvider {
  const { log: _log, memoryMb: _memoryMb, external: _external, ...providerOptions } = options; // deploy-only options
  // Deploying (bundling, the control plane) loads only when asked for.
  const deployer = lazyDeployer(async () => (await import("./deployer.js")).gcpDeployer(options));
  return gcpProvider(providerOptions, deployer);
}

/** `FAASADE_PROVIDER=gcp`: the provider with its defaults from the environment. */
export const defaultProvider = (): GcpProvider => gcp();
