/** Option defaults from the environment, as every cloud provider reads them. */
import { InvalidError } from "../core/errors.js";

/** The first of these environment variables that is set and not empty. */
export const fromEnv = (...names: string[]): string | undefined =>
  names.map((name) => process.env[name]).find((value) => value !== undefined && value !== "");

/**
 * A required option, else the first of `variables` set, else `InvalidError` saying how to set it:
 * "<provider>: no <what> is set: set VAR (export VAR=<example>), or pass <provider>({ <name>: "<example>" }) in code".
 */
export function required(
  provider: string,
  name: string,
  given: string | undefined,
  variables: string[],
  what: string,
  example: string,
): string {
  const value = given ?? fromEnv(...variables);
  if (value !== undefined) return value;
  const [variable] = variables;
  throw new InvalidError(
    `${provider}: no ${what} is set: set ${variable} (export ${variable}=${example}), or pass ${provider}({ ${name}: "${example}" }) in code`,
  );
}

/** `<PREFIX><SERVICE>` of each service, from the environment (unset and empty as absent). */
export function envEndpoints<S extends string>(
  services: readonly S[],
  prefix: string,
  vars: NodeJS.ProcessEnv = process.env,
): Partial<Record<S, string>> {
  const entries = services.map((s) => [s, vars[`${prefix}${s.toUpperCase()}`] || undefined]);
  return Object.fromEntries(entries) as Partial<Record<S, string>>;
}
