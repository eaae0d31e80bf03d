/**
 * @module
 * The Google Cloud provider (`faasade/gcp`): functions run on Cloud Functions (2nd gen), spawned
 * inputs go through Cloud Tasks, results live in Cloud Storage. The cloud layer (src/cloud/)
 * does the work; platform.ts names Google's parts for it. docs/gcp.md.
 */
import { type GcpProvider, gcpProvider } from "./platform.js";
import type { GcpOptions } from "./options.js";

export type { GcpOptions, GcpRuntime } from "./options.js";
export type { GcpProvider } from "./platform.js";
export type { GcpFunctionOptions } from "./deploy/function-options.js";

export function gcp(options: GcpOptions = {}): GcpProvider {
  return gcpProvider(options);
}

/** `FAASADE_PROVIDER=gcp`: the provider with its defaults from the environment. */
export const defaultProvider = (): GcpProvider => gcp();
