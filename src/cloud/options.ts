/** Option checks every cloud provider's factory makes, with messages that quote the bad value. */
import { InvalidError, describe } from "../core/errors.js";

/** A number ≥ 1 (an integer where asked), else `InvalidError` naming the provider and the option. */
export function atLeastOne(provider: string, name: string, value: number, integer: boolean): number {
  if (typeof value !== "number" || !(value >= 1) || (integer && !Number.isInteger(value))) {
    throw new InvalidError(`${provider}: ${name} must be ${integer ? "an integer" : "a number"} ≥ 1, got ${describe(value)}`);
  }
  return value;
}

const SEVEN_DAYS_MS = 7 * 24 * 3_600_000;

/**
 * The options every cloud provider takes alike, checked, with their defaults: results kept
 * `FAASADE_<PROVIDER>_RETENTION_MS` or 7 days, 64 calls in flight, and maps through invokes unless
 * told otherwise (on AWS's offline backend invokes measured 3–8× faster than SQS fan-out).
 */
export function sharedCloudOptions(
  provider: string,
  options: Partial<Record<"retentionMs" | "maxInFlight" | "fanOutFrom", number>>,
) {
  const retentionMs = options.retentionMs ?? envMs(`FAASADE_${provider.toUpperCase()}_RETENTION_MS`) ?? SEVEN_DAYS_MS;
  return {
    retentionMs: atLeastOne(provider, "retentionMs", retentionMs, true),
    maxInFlight: atLeastOne(provider, "maxInFlight", options.maxInFlight ?? 64, true),
    fanOutFrom: atLeastOne(provider, "fanOutFrom", options.fanOutFrom ?? Number.POSITIVE_INFINITY, false),
  };
}

/** A duration from an environment variable, in milliseconds; undefined when unset. */
export function envMs(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 1) {
    throw new InvalidError(`${name} must be a number of milliseconds ≥ 1, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** An object of options, else `InvalidError`; with `known`, one without any other key (the message lists the known ones). */
export function optionsObject<T>(provider: string, options: T, known?: readonly string[]): T {
  if (options === null || typeof options !== "object")
    throw new InvalidError(`${provider}: options must be an object, got ${describe(options)}`);
  const unknown = known === undefined ? undefined : Object.keys(options).find((key) => !known.includes(key));
  if (unknown !== undefined)
    throw new InvalidError(`${provider}: unknown option ${JSON.stringify(unknown)}; known: ${known?.join(", ")}`);
  return options;
}

/** A checker of string options by name, each with its pattern and the example its message gives (see `matching`). */
export function patternRules<N extends string>(provider: string, rules: Record<N, readonly [RegExp, string]>) {
  return (name: N, value: unknown): string => {
    const [pattern, example] = rules[name];
    return matching(provider, name, value, pattern, example);
  };
}

/** One of `allowed`, else `InvalidError` "<provider>: <name> must be one of <allowed>, got <value>". */
export function oneOf<T>(provider: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value))
    throw new InvalidError(`${provider}: ${name} must be one of ${allowed.join(", ")}, got ${describe(value)}`);
  return value as T;
}

/** A string matching `pattern`, else `InvalidError` "<provider>: <name> must be <example>, got <value>". */
export function matching(provider: string, name: string, value: unknown, pattern: RegExp, example: string): string {
  if (typeof value !== "string" || !pattern.test(value))
    throw new InvalidError(`${provider}: ${name} must be ${example}, got ${describe(value)}`);
  return value;
}

/** Per-service endpoints: an http(s) origin for each of `services` given (a trailing slash dropped), nothing else. */
export function endpointUrls<S extends string>(
  provider: string,
  endpoints: unknown,
  services: readonly S[],
): Partial<Record<S, string>> {
  if (endpoints === undefined) return {};
  if (endpoints === null || typeof endpoints !== "object")
    throw new InvalidError(`${provider}: endpoints must be an object, got ${describe(endpoints)}`);
  const out: Partial<Record<S, string>> = {};
  for (const [service, url] of Object.entries(endpoints)) {
    if (!(services as readonly string[]).includes(service))
      throw new InvalidError(`${provider}: endpoints has no service ${JSON.stringify(service)}; known: ${services.join(", ")}`);
    if (url === undefined) continue;
    const origin = matching(
      provider,
      `endpoints.${service}`,
      url,
      /^https?:\/\/[^/\s]+\/?$/,
      'a URL such as "http://127.0.0.1:8085"',
    );
    out[service as S] = origin.replace(/\/$/, "");
  }
  return out;
}
