/**
 * Riding through a platform's passing refusals (throttling, 5xx, a connection reset) inside one
 * cloud request, with the core's backoff and window (src/core/transport.ts): many callers
 * throttled together spread out instead of retrying in step. What counts as passing is the
 * platform's to say.
 */
import { TransportBackoff } from "../core/transport.js";

export async function retryTransient<T>(
  run: () => Promise<T>,
  options: { signal: AbortSignal; isTransient(err: unknown): boolean; fail(err: unknown): Error },
): Promise<T> {
  const backoff = new TransportBackoff();
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (!options.isTransient(err) || options.signal.aborted) throw options.fail(err);
      const delay = backoff.next(options.fail(err));
      if (typeof delay !== "number") throw delay;
      await sleep(delay, options.signal);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
