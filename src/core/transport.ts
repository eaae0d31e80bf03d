/**
 * Riding through transport failures (../shared/API.md, "Executions in detail"): a client of a
 * deployment retries a request whose connection was refused or reset, that timed out, or that
 * got a 5xx or throttling answer, with full-jitter backoff, for as long as the call allows (its
 * deadline, else RIDE_THROUGH_MS of continuous failure), so that a deployment's restart is
 * invisible to its callers. Providers say which failures are passing by throwing
 * `TransportError`; the policy and the final `InternalFailure` are the core's, for every provider.
 */
import { InternalFailure } from "./errors.js";

/** How long a call with no deadline of its own keeps trying through continuous transport failure. */
export const RIDE_THROUGH_MS = 60_000;
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 2_000;

/** A passing failure to reach a deployment; its message names the deployment and what failed. */
export class TransportError extends InternalFailure {}

export function isTransportError(err: unknown): err is TransportError {
  return err instanceof TransportError;
}

/**
 * One streak of failures: how long to wait before the next try, until the window is spent.
 * `reset()` once the deployment answered again.
 */
export class TransportBackoff {
  #since: number | undefined;
  #tries = 0;

  constructor(
    /** The latest moment to try again (a `performance.now()` reading); undefined: RIDE_THROUGH_MS from the first failure. */
    private readonly deadline?: number,
  ) {}

  /** After a failure: the delay before trying again, or the final `InternalFailure` when no time is left. */
  next(last: Error): number | InternalFailure {
    const now = performance.now();
    this.#since ??= now;
    this.#tries++;
    const end = this.deadline ?? this.#since + RIDE_THROUGH_MS;
    if (now >= end) return this.giveUp(last, now);
    // The last try is made at the end of the window, not a backoff's length before it.
    return Math.min(end - now, Math.random() * Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.#tries));
  }

  reset(): void {
    this.#since = undefined;
    this.#tries = 0;
  }

  private giveUp(last: Error, now: number): InternalFailure {
    const seconds = ((now - (this.#since ?? now)) / 1000).toFixed(1);
    return new InternalFailure(`${last.message} (still failing after ${seconds} s and ${this.#tries} tries)`, { cause: last });
  }
}

/**
 * Runs `request` until it succeeds, fails otherwise than by transport, or the backoff gives up;
 * once `signal` aborts, the last failure is final.
 */
export async function rideThrough<T>(
  request: () => Promise<T>,
  options: { deadline?: number | undefined; signal?: AbortSignal | undefined } = {},
): Promise<T> {
  const backoff = new TransportBackoff(options.deadline);
  for (;;) {
    try {
      return await request();
    } catch (err) {
      if (!(err instanceof TransportError) || options.signal?.aborted) throw err;
      const delay = backoff.next(err);
      if (typeof delay !== "number") throw delay;
      await pause(delay, options.signal);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** A deadline `ms` from now on the monotonic clock (`performance.now()`); undefined stays undefined. */
export function deadlineIn(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : performance.now() + ms;
}
