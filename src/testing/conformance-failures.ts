/**
 * Conformance rows for inputs that go wrong: timeouts (never settling, cooperative, busy sync
 * code), containers that exit or run out of memory. The rows that need a container to be
 * killed are skipped by name where containers are not separate processes.
 */
import { FunctionTimeoutError, RemoteError } from "../core/errors.js";
import { NOT_ISOLATED, type RowContext } from "./conformance-context.js";

export function failureRows({ vt, f, isolated, exitCodes }: RowContext): void {
  const { expect, it } = vt;

  it("a function that never settles times out", async () => {
    await expect(f("hang").remote()).rejects.toBeInstanceOf(FunctionTimeoutError);
  });

  it("a timed-out input sees its signal abort", async () => {
    await expect(f("cooperative").remote(10_000)).rejects.toBeInstanceOf(FunctionTimeoutError);
    expect(await f("cooperative").remote(10)).toBe("finished");
  });

  it("busy sync code is stopped at its timeout and the function works afterwards", { timeout: 60_000 }, async ({ skip }) => {
    skip(!isolated, NOT_ISOLATED);
    const busyMs = 40_000;
    const started = Date.now();
    await expect(f("spin").remote(busyMs)).rejects.toBeInstanceOf(FunctionTimeoutError);
    expect(await f("spin").remote(1)).toBe(1);
    // spin has one container: had the busy code kept it, the second call would have waited for it.
    expect(Date.now() - started).toBeLessThan(busyMs / 2);
  });

  it("a timed-out input frees its slot: the input queued behind it runs", { timeout: 90_000 }, async ({ skip }) => {
    skip(!isolated, NOT_ISOLATED);
    const first = await f("spin").spawn(20_000); // one container
    const behind = await f("spin").spawn(5);
    // Both read at once: a backend may keep results only briefly.
    const [timedOut, result] = await Promise.all([
      first.get({ timeoutMs: 60_000 }).catch((e: unknown) => e),
      behind.get({ timeoutMs: 75_000 }),
    ]);
    expect(timedOut).toBeInstanceOf(FunctionTimeoutError);
    expect(result).toBe(5);
  });

  it("a container that calls process.exit fails its input with RemoteError", async ({ skip }) => {
    skip(!isolated, NOT_ISOLATED);
    const err = await f("exit")
      .remote(3)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as Error).message).toMatch(exitCodes ? /exited with code 3/ : /exited or crashed/);
    expect(await f("square").remote(3)).toBe(9);
  });

  it("a lost container uses up an attempt and the retry runs in a new one", async ({ skip }) => {
    skip(!isolated, NOT_ISOLATED);
    expect(await f("exitOnce").remote()).toBe(2);
  });
}

/** Last in the suite: its heaviest row (a container filling its heap until it dies). */
export function outOfMemoryRow({ vt, f, isolated }: RowContext): void {
  const { expect, it } = vt;
  it("a container that runs out of memory fails its input with RemoteError", async ({ skip }) => {
    skip(!isolated, NOT_ISOLATED);
    const err = await f("oom")
      .remote()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as Error).message).toMatch(/memory|exited/);
  });
}
