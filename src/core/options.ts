/** Function options: their types, defaults and the checks made at definition. */
import { InvalidError, describe } from "./errors.js";
import { Retries } from "./retries.js";

export interface WebOptions {
  /** HTTP method the endpoint accepts. @default "GET" */
  method?: string;
  /**
   * Require the provider's own credentials (SigV4 on AWS, an ID token on Google Cloud, a
   * function key on Azure, the deployment token locally). @default false: public, as on Modal
   */
  auth?: boolean;
}

export interface FunctionOptions {
  /** @default fn.name */
  name?: string;
  /** Per attempt, from the moment the attempt starts. 1 000 ≤ t ≤ 86 400 000. @default 300_000 */
  timeoutMs?: number;
  /** @default 0 */
  retries?: number | Retries;
  /** Containers kept running with no input. @default 0 */
  minContainers?: number;
  /** Upper bound on live containers. @default the provider's (local: available parallelism) */
  maxContainers?: number;
  /** Extra idle containers kept while the function is busy. @default 0 */
  bufferContainers?: number;
  /** How long an idle container lives. @default 60_000 */
  scaledownWindowMs?: number;
  /** Concurrent inputs per container. @default 1 */
  maxInputs?: number;
  memoryMb?: number;
  /** Environment variables of the containers. */
  env?: Record<string, string>;
  /** An HTTP endpoint: the function takes a Web `Request` and returns a Web `Response`. */
  web?: WebOptions;
  providerOptions?: { aws?: unknown; gcp?: unknown; azure?: unknown; local?: unknown };
  /** The module containers import to find this function. @default the module that called `app.function` */
  module?: string | URL;
}

export interface ResolvedOptions {
  name: string;
  timeoutMs: number;
  retries: Retries;
  minContainers: number;
  maxContainers: number | undefined;
  bufferContainers: number;
  scaledownWindowMs: number;
  maxInputs: number;
  memoryMb: number | undefined;
  env: Readonly<Record<string, string>>;
  web: Readonly<Required<WebOptions>> | undefined;
  providerOptions: FunctionOptions["providerOptions"];
}

const KNOWN = new Set([
  "name",
  "timeoutMs",
  "retries",
  "minContainers",
  "maxContainers",
  "bufferContainers",
  "scaledownWindowMs",
  "maxInputs",
  "memoryMb",
  "env",
  "web",
  "providerOptions",
  "module",
]);

export const NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;

export function resolveOptions(fn: unknown, options: FunctionOptions | undefined, isGenerator: boolean): ResolvedOptions {
  if (typeof fn !== "function") throw new InvalidError(`app.function: expected a function, got ${describe(fn)}`);
  const opts = options ?? {};
  if (typeof opts !== "object" || opts === null) {
    throw new InvalidError(`app.function: options must be an object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!KNOWN.has(key)) throw new InvalidError(`app.function: unknown option ${JSON.stringify(key)}`);
  }
  const name = opts.name ?? fn.name;
  if (typeof name !== "string" || name === "") {
    throw new InvalidError("app.function: the function has no name; pass a named function or options.name");
  }
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidError(`app.function: invalid function name ${JSON.stringify(name)}; it must match ${NAME_PATTERN}`);
  }
  const where = `function ${JSON.stringify(name)}`;
  const int = (key: keyof FunctionOptions, min: number, max: number, fallback: number): number => {
    const value = opts[key];
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidError(`${where}: ${key} must be an integer between ${min} and ${max}, got ${describe(value)}`);
    }
    return value;
  };
  const web = opts.web;
  if (web !== undefined && (typeof web !== "object" || web === null)) {
    throw new InvalidError(`${where}: web must be an object like { method: "POST" }, got ${describe(web)}`);
  }
  if (web?.auth !== undefined && typeof web.auth !== "boolean") {
    throw new InvalidError(`${where}: web.auth must be a boolean, got ${describe(web.auth)}`);
  }
  const retries = Retries.from(opts.retries);
  if (retries.maxRetries > 0 && isGenerator) throw new InvalidError(`${where}: generator functions cannot have retries`);
  if (retries.maxRetries > 0 && web) throw new InvalidError(`${where}: web functions cannot have retries`);
  if (web && isGenerator) throw new InvalidError(`${where}: a generator function cannot be a web endpoint`);
  const env = opts.env ?? {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value !== "string") throw new InvalidError(`${where}: env.${key} must be a string, got ${describe(value)}`);
  }
  const resolved: ResolvedOptions = {
    name,
    timeoutMs: int("timeoutMs", 1000, 86_400_000, 300_000),
    retries,
    maxInputs: int("maxInputs", 1, 1000, 1),
    memoryMb: opts.memoryMb === undefined ? undefined : int("memoryMb", 64, 65_536, 0),
    env: Object.freeze({ ...env }),
    web: web ? Object.freeze({ method: (web.method ?? "GET").toUpperCase(), auth: web.auth === true }) : undefined,
    providerOptions: opts.providerOptions,
    ...checkAutoscaler(where, {
      minContainers: opts.minContainers ?? 0,
      maxContainers: opts.maxContainers,
      bufferContainers: opts.bufferContainers ?? 0,
      scaledownWindowMs: opts.scaledownWindowMs ?? 60_000,
    }),
  };
  return resolved;
}

export interface AutoscalerSettings {
  minContainers: number;
  maxContainers: number | undefined;
  bufferContainers: number;
  scaledownWindowMs: number;
}

/** Checks merged autoscaler settings; shared by definition and `updateAutoscaler`. */
export function checkAutoscaler(where: string, s: { [K in keyof AutoscalerSettings]: unknown }): AutoscalerSettings {
  const int = (key: keyof AutoscalerSettings, min: number, max: number): number => {
    const value = s[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidError(`${where}: ${key} must be an integer between ${min} and ${max}, got ${describe(value)}`);
    }
    return value;
  };
  const out: AutoscalerSettings = {
    minContainers: int("minContainers", 0, 10_000),
    maxContainers: s.maxContainers === undefined ? undefined : int("maxContainers", 1, 10_000),
    bufferContainers: int("bufferContainers", 0, 10_000),
    scaledownWindowMs: int("scaledownWindowMs", 0, 86_400_000),
  };
  if (out.maxContainers !== undefined && out.minContainers > out.maxContainers) {
    throw new InvalidError(`${where}: minContainers (${out.minContainers}) is greater than maxContainers (${out.maxContainers})`);
  }
  return out;
}
