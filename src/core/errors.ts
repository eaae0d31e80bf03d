/**
 * The contract's error classes. Each has a `name` equal to its class so that errors
 * rebuilt on the other side of the wire (and `instanceof`-free checks) keep working.
 */
export class FaasadeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad name, options or arguments; a call of the wrong kind. */
export class InvalidError extends FaasadeError {}
/** Unknown app, function or call id. */
export class NotFoundError extends FaasadeError {}
/** `local()` / `getRawF()` on a handle without a definition, and similar misuse. */
export class ExecutionError extends FaasadeError {}
/** A value cannot be encoded; the message names where (e.g. `args[1].callback: function`). */
export class SerializationError extends FaasadeError {}
/** Bytes cannot be decoded into a value. */
export class DeserializationError extends FaasadeError {}
/** The user's function threw; `cause` is the rebuilt error. */
export class UserCodeError extends FaasadeError {}
/** The input failed without a user error (container crashed or ran out of memory, init failed). */
export class RemoteError extends FaasadeError {}
/** The call was cancelled. */
export class InputCancelledError extends RemoteError {}
/** `get({ timeoutMs })` deadline while the call is still running. */
export class TimeoutError extends FaasadeError {}
/** An attempt ran past the function's `timeoutMs`. */
export class FunctionTimeoutError extends TimeoutError {}
/** The result is past its retention. */
export class OutputExpiredError extends TimeoutError {}
/** Provider or transport failure that survived faasade's own internal retries. */
export class InternalFailure extends FaasadeError {}
/** A cloud API refused; names provider and operation, the SDK error is its `cause`. */
export class ProviderError extends FaasadeError {}

/** Describes a value for an error message without dumping it whole. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "symbol" || typeof value === "bigint") return String(value);
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return `array(${value.length})`;
  // The prototype's constructor, never an own `constructor` key (JSON from anyone may hold one of any shape).
  const name: unknown = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === "string" && name !== "" ? `${name} object` : "object";
}
