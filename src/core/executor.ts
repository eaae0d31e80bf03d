/**
 * Runs one input wherever code runs (a local container, a cloud runtime, the in-memory
 * test provider): decode the arguments, set `currentInput()`, call the function, encode
 * the result or what it threw. Sync functions settle synchronously, so a hot loop pays
 * for no promise.
 */
import { decode, encode } from "./codec.js";
import { type InputContext, inputStorage } from "./context.js";
import type { Outcome } from "./provider.js";

export type Result = Pick<Outcome, "status" | "value" | "error" | "userError" | "message">;
type AnyFn = (...args: unknown[]) => unknown;

export function execute(
  fn: AnyFn,
  ctx: InputContext,
  args: Uint8Array,
  isGenerator: boolean,
  onChunk: (value: Uint8Array) => void,
): Result | Promise<Result> {
  let decoded: unknown[];
  try {
    decoded = decode(args) as unknown[];
  } catch (err) {
    return failure(err, false);
  }
  let returned: unknown;
  try {
    returned = inputStorage.run(ctx, fn, ...decoded);
  } catch (err) {
    return failure(err, true);
  }
  if (isGenerator) return inputStorage.run(ctx, drain, returned as AsyncIterator<unknown>, ctx, onChunk);
  if (isThenable(returned)) return Promise.resolve(returned).then(success, (err: unknown) => failure(err, true));
  return success(returned);
}

/** Pulls a generator to its end, or until its input is cancelled: nobody reads the rest. */
async function drain(
  iterator: AsyncIterator<unknown> | Iterator<unknown>,
  ctx: InputContext,
  onChunk: (v: Uint8Array) => void,
): Promise<Result> {
  try {
    for (;;) {
      if (ctx.isAborted) {
        await iterator.return?.();
        return success(undefined);
      }
      const step = await iterator.next();
      if (step.done) return success(undefined);
      onChunk(encode(step.value, "yielded value"));
    }
  } catch (err) {
    return failure(err, !(err instanceof Error && err.name === "SerializationError"));
  }
}

function success(value: unknown): Result {
  try {
    return { status: "SUCCESS", value: encode(value, "result") };
  } catch (err) {
    return failure(err, false);
  }
}

/** Encodes what was thrown; if it cannot travel whole, its name, message and stack do. */
export function failure(thrown: unknown, userError: boolean): Result {
  let error: Uint8Array;
  try {
    error = encode(thrown, "error");
  } catch {
    const err = thrown instanceof Error ? thrown : new Error(String(thrown));
    const plain = new Error(err.message);
    plain.name = err.name;
    plain.stack = err.stack ?? "";
    error = encode(plain, "error");
  }
  return { status: "FAILURE", error, userError };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}
