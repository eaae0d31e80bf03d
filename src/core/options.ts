/** Function options: their types, defaults and the checks made at definition. */
import { InvalidError, describe } from "./errors.js";
import { Retries } from "./retries.js";

/**
 * The bounds and defaults the checks below apply. The JSDoc of each option repeats them for
 * editors; `scripts/options-doc.mjs` fails when the two disagree, and writes docs/options.md.
 */
export const OPTION_BOUNDS = {
  timeoutMs: { min: 1000, max: 86_400_000 },
  minContainers: { min: 0, max: 10_000 },
  maxContainers: { min: 1, max: 10_000 },
  bufferContainers: { min: 0, max: 10_000 },
  scaledownWindowMs: { min: 0, max: 86_400_000 },
  maxInputs: { min: 1, max: 1000 },
  memoryMb: { min: 64, max: 65_536 },
} as const;

export const OPTION_DEFAULTS = {
  timeoutMs: 300_000,
  minContainers: 0,
  bufferContainers: 0,
  scaledownWindowMs: 60_000,
  maxInputs: 1,
} as const;

export const WEB_DEFAULTS = { method: "GET", auth: false } as const;

/** The `web` option of `app.function`: the HTTP endpoint a web function serves. */
export interface WebOptions {
  /**
   * The HTTP method the endpoint accepts, in any case (stored upper-case).
   * @default "GET"
   */
  method?: string;
  /**
   * Require the provider's own credentials (SigV4 on AWS, the deployment token locally); without
   * it the endpoint's URL is public, as on Modal, since it serves browsers and webhooks.
   * @default false
   */
  auth?: boolean;
}

/**
 * The options of `app.function(fn, options)`, checked when the function is defined: an unknown
 * option, a value outside its bounds or an inconsistent set (`minContainers` above
 * `maxContainers`, retries on a generator or web function, a generator as a web endpoint)
 * throws `InvalidError` quoting the value.
 */
export interface FunctionOptions {
  /**
   * The function's name in its app, matching `/^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/`.
   * @default `fn.name`
   */
  name?: string;
  /**
   * How long one attempt may run, from the moment it starts executing; past it the attempt ends
   * with `FunctionTimeoutError` (retried by policy).
   * @default 300_000
   * @bounds integer, 1 000 ≤ timeoutMs ≤ 86 400 000
   */
  timeoutMs?: number;
  /**
   * Retries after a failed attempt: a number `n` is `new Retries({ maxRetries: n })`. Not for
   * generator or web functions.
   * @default 0
   * @bounds integer, 0 ≤ maxRetries ≤ 100; a Retries has the bounds of RetriesOptions
   */
  retries?: number | Retries;
  /**
   * Containers kept running with no input.
   * @default 0
   * @bounds integer, 0 ≤ minContainers ≤ 10 000, and at most maxContainers
   */
  minContainers?: number;
  /**
   * Upper bound on live containers (on AWS, the function's reserved concurrency).
   * @default the provider's: local, `local({ maxContainers })` (default: the available parallelism); AWS, no reserved concurrency
   * @bounds integer, 1 ≤ maxContainers ≤ 10 000
   */
  maxContainers?: number;
  /**
   * Extra idle containers kept while the function is busy.
   * @default 0
   * @bounds integer, 0 ≤ bufferContainers ≤ 10 000
   */
  bufferContainers?: number;
  /**
   * How long an idle container lives before it stops (when more than `minContainers` run).
   * @default 60_000
   * @bounds integer, 0 ≤ scaledownWindowMs ≤ 86 400 000
   */
  scaledownWindowMs?: number;
  /**
   * Inputs one container runs at the same time.
   * @default 1
   * @bounds integer, 1 ≤ maxInputs ≤ 1 000
   */
  maxInputs?: number;
  /**
   * Memory of a container: locally the heap limit of its process, on AWS the Lambda memory size
   * (which AWS takes from 128 to 10 240 at deploy).
   * @default the provider's: local, no heap limit; AWS, `aws({ memoryMb })` (default 1 024)
   * @bounds integer, 64 ≤ memoryMb ≤ 65 536
   */
  memoryMb?: number;
  /**
   * Environment variables of the containers, strings only.
   * @default {}
   */
  env?: Record<string, string>;
  /**
   * Makes the function an HTTP endpoint: it takes a Web `Request` and returns a Web `Response`,
   * and is called over HTTP at `getWebUrl()`, not with `remote` or `spawn`. Not for generators.
   * @default none: not an endpoint
   */
  web?: WebOptions;
  /**
   * What only one provider has, under its name (`aws`: docs/aws.md, "Per function").
   * @default none
   */
  providerOptions?: { aws?: unknown; gcp?: unknown; azure?: unknown; local?: unknown };
  /**
   * The module containers import to find this function (a path or URL).
   * @default the module that called `app.function`
   */
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
  const int = (key: "timeoutMs" | "maxInputs" | "memoryMb", fallback: number): number => {
    const { min, max } = OPTION_BOUNDS[key];
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
    timeoutMs: int("timeoutMs", OPTION_DEFAULTS.timeoutMs),
    retries,
    maxInputs: int("maxInputs", OPTION_DEFAULTS.maxInputs),
    memoryMb: opts.memoryMb === undefined ? undefined : int("memoryMb", 0),
    env: Object.freeze({ ...env }),
    web: web
      ? Object.freeze({ method: (web.method ?? WEB_DEFAULTS.method).toUpperCase(), auth: web.auth ?? WEB_DEFAULTS.auth })
      : undefined,
    providerOptions: opts.providerOptions,
    ...checkAutoscaler(where, {
      minContainers: opts.minContainers ?? OPTION_DEFAULTS.minContainers,
      maxContainers: opts.maxContainers,
      bufferContainers: opts.bufferContainers ?? OPTION_DEFAULTS.bufferContainers,
      scaledownWindowMs: opts.scaledownWindowMs ?? OPTION_DEFAULTS.scaledownWindowMs,
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
  const int = (key: keyof AutoscalerSettings): number => {
    const { min, max } = OPTION_BOUNDS[key];
    const value = s[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidError(`${where}: ${key} must be an integer between ${min} and ${max}, got ${describe(value)}`);
    }
    return value;
  };
  const out: AutoscalerSettings = {
    minContainers: int("minContainers"),
    maxContainers: s.maxContainers === undefined ? undefined : int("maxContainers"),
    bufferContainers: int("bufferContainers"),
    scaledownWindowMs: int("scaledownWindowMs"),
  };
  if (out.maxContainers !== undefined && out.minContainers > out.maxContainers) {
    throw new InvalidError(`${where}: minContainers (${out.minContainers}) is greater than maxContainers (${out.maxContainers})`);
  }
  return out;
}
