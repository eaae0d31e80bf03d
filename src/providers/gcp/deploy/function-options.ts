/**
 * `providerOptions.gcp` of a function (what Cloud Functions alone has: CPU, ingress, a VPC
 * connector, ...) and the settings a function deploys with, all checked before deploy makes
 * anything. docs/gcp.md has the table.
 */
import { InvalidError, describe } from "../../../core/errors.js";
import type { FunctionManifest } from "../../../core/manifest.js";

export type Ingress = "ALLOW_ALL" | "ALLOW_INTERNAL_ONLY" | "ALLOW_INTERNAL_AND_GCLB";

/** `providerOptions: { gcp: {...} }` of a function. */
export interface GcpFunctionOptions {
  /** Memory of an instance, 128–32 768 MB; overrides the function's `memoryMb`. */
  memoryMb?: number;
  /** vCPUs of an instance (0.083–8); more than one input at a time needs at least 1. @default Google's for the memory */
  cpu?: number;
  /** Who may reach the function's URL. @default "ALLOW_ALL" (an ID token is still needed unless the function is a public web function) */
  ingress?: Ingress;
  /** A Serverless VPC Access connector, `projects/<p>/locations/<r>/connectors/<name>`. */
  vpcConnector?: string;
  /** Extra environment variables, merged over the function's `env` (FAASADE_* are faasade's). */
  environment?: Record<string, string>;
  /** The service account this function runs as, instead of the provider's. */
  serviceAccount?: string;
}

/** What one Cloud Function is made with. */
export interface GcpSettings {
  memoryMb: number;
  /** `service_config.available_memory`: "256M", "1Gi", ... */
  availableMemory: string;
  cpu: number | undefined;
  ingress: Ingress;
  vpcConnector: string | undefined;
  environment: Record<string, string>;
  serviceAccount: string | undefined;
  /** Seconds: the function's timeout plus a margin, so faasade's own timeout answers first; at most 3 600 (HTTP). */
  timeoutS: number;
  /** Instances kept warm (`minContainers`). */
  minInstances: number;
  /** `maxContainers`, else Google's default of 100. */
  maxInstances: number;
  /** Inputs one instance runs at once (`maxInputs`). */
  concurrency: number;
}

const KNOWN_KEYS = ["memoryMb", "cpu", "ingress", "vpcConnector", "environment", "serviceAccount"] as const;
const INGRESS: readonly string[] = ["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"];
const CONNECTOR = /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/locations\/[a-z]+-[a-z]+\d+\/connectors\/[a-z][a-z0-9-]{0,23}$/;
const SERVICE_ACCOUNT = /^[^@\s]+@[^@\s]+\.gserviceaccount\.com$/;
/** Set by Cloud Run itself, or not allowed: a function may not set them. */
const RESERVED = new Set(["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION", "FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE"]);
/** Cloud Functions' longest HTTP request. */
const MAX_TIMEOUT_S = 3600;
/** The platform's request timeout past the function's own: time to answer its own timeout first. */
export const REQUEST_MARGIN_S = 5;
const DEFAULT_MAX_INSTANCES = 100;

export function gcpSettings(fn: FunctionManifest, defaults: { memoryMb: number }): GcpSettings {
  const where = `function "${fn.name}": providerOptions.gcp`;
  const own = ownOptions(fn, where);
  const memoryMb = own.memoryMb ?? fn.options.memoryMb ?? defaults.memoryMb;
  if (!Number.isInteger(memoryMb) || memoryMb < 128 || memoryMb > 32_768)
    throw new InvalidError(`${where}.memoryMb (or memoryMb) must be an integer from 128 to 32768, got ${describe(memoryMb)}`);
  const concurrency = fn.options.maxInputs;
  if (own.cpu !== undefined && (typeof own.cpu !== "number" || !(own.cpu >= 0.083 && own.cpu <= 8)))
    throw new InvalidError(`${where}.cpu must be a number from 0.083 to 8, got ${describe(own.cpu)}`);
  if (concurrency > 1 && own.cpu !== undefined && own.cpu < 1)
    throw new InvalidError(
      `${where}.cpu must be at least 1 for maxInputs ${concurrency} (Cloud Run runs one request at a time below 1 vCPU), got ${own.cpu}`,
    );
  const timeoutS = Math.ceil(fn.options.timeoutMs / 1000) + REQUEST_MARGIN_S;
  if (timeoutS > MAX_TIMEOUT_S)
    throw new InvalidError(
      `function "${fn.name}": timeoutMs ${fn.options.timeoutMs} is longer than Cloud Functions' 60 minutes for an HTTP request (at most ${(MAX_TIMEOUT_S - REQUEST_MARGIN_S) * 1000})`,
    );
  return {
    memoryMb,
    availableMemory: memoryMb % 1024 === 0 ? `${memoryMb / 1024}Gi` : `${memoryMb}Mi`,
    cpu: own.cpu,
    ingress: own.ingress ?? "ALLOW_ALL",
    vpcConnector: own.vpcConnector,
    environment: { ...fn.options.env, ...own.environment },
    serviceAccount: own.serviceAccount,
    timeoutS,
    minInstances: fn.options.minContainers,
    maxInstances: fn.options.maxContainers ?? DEFAULT_MAX_INSTANCES,
    concurrency,
  };
}

function ownOptions(fn: FunctionManifest, where: string): GcpFunctionOptions {
  const raw = (fn.options.providerOptions as { gcp?: unknown } | undefined)?.gcp;
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new InvalidError(`${where} must be an object, got ${describe(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key))
      throw new InvalidError(`${where} has no option ${JSON.stringify(key)}; known: ${KNOWN_KEYS.join(", ")}`);
  }
  const own = raw as GcpFunctionOptions;
  if (own.ingress !== undefined && !INGRESS.includes(own.ingress))
    throw new InvalidError(`${where}.ingress must be one of ${INGRESS.join(", ")}, got ${describe(own.ingress)}`);
  if (own.vpcConnector !== undefined && (typeof own.vpcConnector !== "string" || !CONNECTOR.test(own.vpcConnector)))
    throw new InvalidError(
      `${where}.vpcConnector must be projects/<project>/locations/<region>/connectors/<name>, got ${describe(own.vpcConnector)}`,
    );
  if (own.serviceAccount !== undefined && (typeof own.serviceAccount !== "string" || !SERVICE_ACCOUNT.test(own.serviceAccount)))
    throw new InvalidError(`${where}.serviceAccount must be a service account e-mail, got ${describe(own.serviceAccount)}`);
  checkEnvironment(own.environment, where);
  return own;
}

function checkEnvironment(environment: unknown, where: string): void {
  if (environment === undefined) return;
  if (environment === null || typeof environment !== "object" || Array.isArray(environment))
    throw new InvalidError(`${where}.environment must be an object of strings, got ${describe(environment)}`);
  for (const [name, value] of Object.entries(environment)) {
    if (
      !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ||
      name.startsWith("X_GOOGLE_") ||
      RESERVED.has(name) ||
      name.startsWith("FAASADE_")
    )
      throw new InvalidError(`${where}.environment: ${JSON.stringify(name)} is not a name a function may set`);
    if (typeof value !== "string")
      throw new InvalidError(`${where}.environment.${name} must be a string, got ${describe(value)}`);
  }
}
