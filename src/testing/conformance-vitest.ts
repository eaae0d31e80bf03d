/**
 * vitest, loaded when `faasade/testing` is imported, yet needed only by `testProvider`: a user
 * who installed faasade without vitest (it is an optional peer) still gets `startTestBackend`
 * and `memoryProvider`, and `testProvider` says what to install.
 */
import { ExecutionError } from "../core/errors.js";

export type Vitest = typeof import("vitest");

const loaded: Vitest | Error = await import("vitest").catch((err: unknown) =>
  err instanceof Error ? err : new Error(String(err)),
);

/** The loaded vitest, or an `ExecutionError` naming the fix. */
export function vitest(): Vitest {
  if (!(loaded instanceof Error)) return loaded;
  const missing = (loaded as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND" && loaded.message.includes("'vitest'");
  throw new ExecutionError(
    missing
      ? "testProvider runs inside vitest, which is not installed here: npm i -D vitest (an optional peer of faasade, >=4.1 <5)"
      : `testProvider: vitest could not be loaded: ${loaded.message}`,
    { cause: loaded },
  );
}
