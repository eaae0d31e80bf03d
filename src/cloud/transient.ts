/**
 * Riding through a platform's passing refusals (throttling, say): retried with full jitter,
 * capped, for as long as the call allows, so many callers throttled together spread out
 * instead of retrying in step. What counts as passing is the platform's to say.
 */

/** How long one request keeps trying through passing refusals. */
export const TRANSIENT_LIMIT_MS = 60_000;

export async function retryTransient<T>(
  run: () => Promise<T>,
  options: { signal: AbortSignal; isTransient(err: unknown): boolean; fail(err: unknown): Error },
): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!options.isTransient(err) || options.signal.aborted || Date.now() - started > TRANSIENT_LIMIT_MS) {
        throw options.fail(err);
      }
      await sleep(Math.random() * Math.min(2000, 25 * 2 ** attempt), options.signal);
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
