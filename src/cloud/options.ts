/** Option checks every cloud provider's factory makes, with messages that quote the bad value. */
import { InvalidError, describe } from "../core/errors.js";

/** A number ≥ 1 (an integer where asked), else `InvalidError` naming the provider and the option. */
export function atLeastOne(provider: string, name: string, value: number, integer: boolean): number {
  if (typeof value !== "number" || !(value >= 1) || (integer && !Number.isInteger(value))) {
    throw new InvalidError(`${provider}: ${name} must be ${integer ? "an integer" : "a number"} ≥ 1, got ${describe(value)}`);
  }
  return value;
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
