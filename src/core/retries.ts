import type { Outcome } from "./provider.js";
import { InvalidError, describe } from "./errors.js";

/**
 * The options of `new Retries(options)`. The delay before retry k is
 * `initialDelayMs × backoffCoefficient^(k-1)`, capped by `maxDelayMs`.
 */
export interface RetriesOptions {
  /**
   * Retries after the first attempt; attempts = 1 + maxRetries.
   * @bounds integer, 0 ≤ maxRetries ≤ 100
   */
  maxRetries: number;
  /**
   * How much each delay grows over the one before.
   * @default 2
   * @bounds number, 1 ≤ backoffCoefficient ≤ 10
   */
  backoffCoefficient?: number;
  /**
   * The delay before the first retry.
   * @default 1000
   * @bounds number, 0 ≤ initialDelayMs ≤ 86 400 000
   */
  initialDelayMs?: number;
  /**
   * The longest delay between two attempts.
   * @default 60_000
   * @bounds number, 0 ≤ maxDelayMs ≤ 86 400 000
   */
  maxDelayMs?: number;
}

/** A retry policy: how many times an input is tried again, and how long to wait before each. */
export class Retries {
  readonly maxRetries: number;
  readonly backoffCoefficient: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;

  constructor(options: RetriesOptions) {
    if (options === null || typeof options !== "object") {
      throw new InvalidError(`Retries: expected an options object, got ${describe(options)}`);
    }
    const { maxRetries, backoffCoefficient = 2, initialDelayMs = 1000, maxDelayMs = 60_000 } = options;
    this.maxRetries = check("maxRetries", maxRetries, 0, 100, true);
    this.backoffCoefficient = check("backoffCoefficient", backoffCoefficient, 1, 10, false);
    this.initialDelayMs = check("initialDelayMs", initialDelayMs, 0, 86_400_000, false);
    this.maxDelayMs = check("maxDelayMs", maxDelayMs, 0, 86_400_000, false);
    Object.freeze(this);
  }

  /** A number `n` means `new Retries({ maxRetries: n })`. */
  static from(value: number | Retries | undefined): Retries {
    if (value instanceof Retries) return value;
    if (value === undefined) return NO_RETRIES;
    if (typeof value !== "number") {
      throw new InvalidError(`retries: expected a number or a Retries, got ${describe(value)}`);
    }
    return new Retries({ maxRetries: value });
  }

  /** The delay before retry `k` (1-based), or `undefined` when the policy is used up. */
  delayBeforeRetry(k: number): number | undefined {
    if (k > this.maxRetries) return undefined;
    return Math.min(this.maxDelayMs, this.initialDelayMs * this.backoffCoefficient ** (k - 1));
  }
}

const NO_RETRIES = new Retries({ maxRetries: 0 });

/**
 * The one retry decision, made wherever the side that is alive retries (the caller, a
 * deployment, a cloud queue consumer): the delay before the next attempt, or `undefined` when
 * the attempt's end is final. Successes and cancellations are final; everything else uses up
 * the policy.
 */
export function retryDelay(retries: Retries, ended: Pick<Outcome, "status" | "attempt">): number | undefined {
  if (ended.status === "SUCCESS" || ended.status === "TERMINATED") return undefined;
  return retries.delayBeforeRetry(ended.attempt);
}

function check(name: string, value: unknown, min: number, max: number, integer: boolean): number {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new InvalidError(
      `Retries: ${name} must be ${integer ? "an integer" : "a number"} between ${min} and ${max}, got ${describe(value)}`,
    );
  }
  return value;
}
