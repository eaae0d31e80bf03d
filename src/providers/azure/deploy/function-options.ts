/**
 * `providerOptions.azure` of a function (what Azure Functions alone has: Flex instance sizes, HTTP
 * concurrency per instance, Premium's plan size, ...) and the settings a function app deploys with, all
 * checked before deploy makes anything. docs/azure.md has the table.
 */
import { InvalidError, describe } from "../../../core/errors.js";
import type { FunctionManifest } from "../../../core/manifest.js";
import { FLEX_MAX_INSTANCES, flexMaximum } from "../sites-api.js";

/** Flex Consumption's instance sizes. */
export const INSTANCE_MEMORY_MB = [512, 2048, 4096] as const;
export type InstanceMemoryMb = (typeof INSTANCE_MEMORY_MB)[number];
/** Elastic Premium's plan sizes. */
export const PREMIUM_SKUS = ["EP1", "EP2", "EP3"] as const;
export type PremiumSku = (typeof PREMIUM_SKUS)[number];

/** `providerOptions: { azure: {...} }` of a function. */
export interface AzureFunctionOptions {
  /** Flex: memory of an instance, 512, 2048 or 4096 MB. @default the function's `memoryMb` rounded up to one of these, else 2048 */
  instanceMemoryMb?: InstanceMemoryMb;
  /** Flex: HTTP requests one instance takes at once (1–1000). @default the function's `maxInputs` */
  httpConcurrency?: number;
  /** Flex: the most instances of the function (40–1000). @default the function's `maxContainers` within 40–1000, else 100 */
  maximumInstanceCount?: number;
  /** Queue messages the host takes at once per instance (1–32). @default min(32, maxInputs) */
  queueBatchSize?: number;
  /** Premium: the plan's size. @default "EP1" */
  premiumSku?: PremiumSku;
  /** Extra app settings, merged over the function's `env` (FAASADE_*, AzureWebJobs*, FUNCTIONS_*, WEBSITE_* are Azure's or faasade's). */
  environment?: Record<string, string>;
}

/** What one function app is made with. */
export interface AzureSettings {
  instanceMemoryMb: InstanceMemoryMb;
  httpConcurrency: number;
  maximumInstanceCount: number;
  /** Premium: the plan's maximum burst and the app's scale limit: `maxContainers` up to 100 (Linux's most), else 20. */
  premiumMaxInstances: number;
  /** Always-ready instances of the app's HTTP group (Flex), or minimum elastic instances (Premium): `minContainers`. */
  alwaysReady: number;
  queueBatchSize: number;
  premiumSku: PremiumSku;
  environment: Record<string, string>;
  /** host.json's `functionTimeout` ("hh:mm:ss"): the function's timeout plus a margin, so faasade's own answers first. */
  functionTimeout: string;
  /** The web function's trigger level, or undefined for a function that is not a web function. */
  web: "anonymous" | "function" | undefined;
}

const KNOWN_KEYS = [
  "instanceMemoryMb",
  "httpConcurrency",
  "maximumInstanceCount",
  "queueBatchSize",
  "premiumSku",
  "environment",
] as const;
/** Elastic Premium on Linux: at most 100 instances (20 in some regions), 20 faasade's default. */
const PREMIUM_MAX_INSTANCES = 100;
const PREMIUM_DEFAULT_INSTANCES = 20;
/** The host's time past the function's own timeout: time for faasade to answer its own timeout first. */
export const TIMEOUT_MARGIN_S = 30;
const RESERVED_PREFIXES = ["FAASADE_", "AzureWebJobs", "FUNCTIONS_", "WEBSITE_", "SCM_", "AZURE_FUNCTIONS_"];

export function azureSettings(fn: FunctionManifest, defaults: { memoryMb: number }): AzureSettings {
  const where = `function "${fn.name}": providerOptions.azure`;
  const own = ownOptions(fn, where);
  const memoryMb = fn.options.memoryMb ?? defaults.memoryMb;
  const instanceMemoryMb = own.instanceMemoryMb ?? INSTANCE_MEMORY_MB.find((size) => size >= memoryMb);
  if (instanceMemoryMb === undefined)
    throw new InvalidError(
      `function "${fn.name}": memoryMb ${memoryMb} is more than Flex Consumption's largest instance (4096 MB)`,
    );
  return {
    instanceMemoryMb,
    httpConcurrency: own.httpConcurrency ?? fn.options.maxInputs,
    maximumInstanceCount: own.maximumInstanceCount ?? flexMaximum(fn.options.maxContainers ?? FLEX_MAX_INSTANCES.default),
    premiumMaxInstances: Math.min(PREMIUM_MAX_INSTANCES, fn.options.maxContainers ?? PREMIUM_DEFAULT_INSTANCES),
    alwaysReady: fn.options.minContainers,
    queueBatchSize: own.queueBatchSize ?? Math.min(32, fn.options.maxInputs),
    premiumSku: own.premiumSku ?? "EP1",
    environment: { ...fn.options.env, ...own.environment },
    functionTimeout: hms(Math.ceil(fn.options.timeoutMs / 1000) + TIMEOUT_MARGIN_S),
    web: fn.options.web === undefined ? undefined : fn.options.web.auth ? "function" : "anonymous",
  };
}

/** A .NET TimeSpan as host.json takes it: "hh:mm:ss", with "d." before from a day on (hours stop at 23). */
function hms(seconds: number): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const days = Math.floor(seconds / 86_400);
  const time = `${two(Math.floor((seconds % 86_400) / 3600))}:${two(Math.floor((seconds % 3600) / 60))}:${two(seconds % 60)}`;
  return days > 0 ? `${days}.${time}` : time;
}

function ownOptions(fn: FunctionManifest, where: string): AzureFunctionOptions {
  const raw = (fn.options.providerOptions as { azure?: unknown } | undefined)?.azure;
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new InvalidError(`${where} must be an object, got ${describe(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key))
      throw new InvalidError(`${where} has no option ${JSON.stringify(key)}; known: ${KNOWN_KEYS.join(", ")}`);
  }
  const own = raw as AzureFunctionOptions;
  if (own.instanceMemoryMb !== undefined && !(INSTANCE_MEMORY_MB as readonly unknown[]).includes(own.instanceMemoryMb))
    throw new InvalidError(`${where}.instanceMemoryMb must be 512, 2048 or 4096, got ${describe(own.instanceMemoryMb)}`);
  integerIn(own.httpConcurrency, 1, 1000, `${where}.httpConcurrency`);
  integerIn(own.maximumInstanceCount, FLEX_MAX_INSTANCES.min, FLEX_MAX_INSTANCES.max, `${where}.maximumInstanceCount`);
  integerIn(own.queueBatchSize, 1, 32, `${where}.queueBatchSize`);
  if (own.premiumSku !== undefined && !(PREMIUM_SKUS as readonly unknown[]).includes(own.premiumSku))
    throw new InvalidError(`${where}.premiumSku must be one of ${PREMIUM_SKUS.join(", ")}, got ${describe(own.premiumSku)}`);
  checkEnvironment(own.environment, where);
  return own;
}

function integerIn(value: unknown, min: number, max: number, what: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new InvalidError(`${what} must be an integer from ${min} to ${max}, got ${describe(value)}`);
}

function checkEnvironment(environment: unknown, where: string): void {
  if (environment === undefined) return;
  if (environment === null || typeof environment !== "object" || Array.isArray(environment))
    throw new InvalidError(`${where}.environment must be an object of strings, got ${describe(environment)}`);
  for (const [name, value] of Object.entries(environment)) {
    // Linux apps take letters, digits and underscores ("__" nests a setting).
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p)))
      throw new InvalidError(`${where}.environment: ${JSON.stringify(name)} is not a name a function may set`);
    if (typeof value !== "string")
      throw new InvalidError(`${where}.environment.${name} must be a string, got ${describe(value)}`);
  }
}
