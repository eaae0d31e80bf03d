/** Turns a provider's `Outcome` into the caller's value or the contract's error. */
import { decode } from "./codec.js";
import { FunctionTimeoutError, InputCancelledError, InternalFailure, RemoteError, UserCodeError, describe } from "./errors.js";
import type { Outcome } from "./provider.js";

/** The value of a SUCCESS outcome; throws the contract's error for anything else. */
export function unwrap(fnName: string, outcome: Outcome): unknown {
  if (outcome.status === "SUCCESS") return decode(outcome.value ?? EMPTY);
  throw outcomeError(fnName, outcome);
}

const EMPTY = new Uint8Array([0xf7]); // CBOR `undefined`

export function outcomeError(fnName: string, outcome: Outcome): Error {
  const where = `function ${JSON.stringify(fnName)}`;
  switch (outcome.status) {
    case "TIMEOUT":
      return new FunctionTimeoutError(outcome.message ?? `${where} timed out`);
    case "TERMINATED":
      return new InputCancelledError(outcome.message ?? `the call to ${where} was cancelled`);
    case "INIT_FAILURE":
      return new RemoteError(`${where} could not start: ${outcome.message ?? "container failed to initialize"}`, {
        cause: outcome.error ? decode(outcome.error) : undefined,
      });
    case "FAILURE": {
      if (outcome.error === undefined) return new RemoteError(`${where} failed: ${outcome.message ?? "container lost"}`);
      const thrown = decode(outcome.error);
      if (outcome.userError === false && thrown instanceof Error) return thrown;
      const summary = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : describeThrown(thrown);
      return new UserCodeError(`${where} threw ${summary}`, { cause: thrown });
    }
    default:
      return new InternalFailure(`${where}: unexpected outcome status ${JSON.stringify(outcome.status)}`);
  }
}

function describeThrown(value: unknown): string {
  return `a non-Error value: ${typeof value === "string" ? JSON.stringify(value) : describe(value)}`;
}
