/**
 * `startTestBackend(provider, { module, retentionMs })`: a cloud provider's offline stand-ins
 * running the app that `module` defines, so that users test their own apps against emulated clouds.
 */
import { InvalidError, describe } from "../core/errors.js";
import type { Provider } from "../core/provider.js";

export interface TestBackendOptions {
  /** The module (path or URL) that defines the app and exports its functions. */
  module: string | URL;
  /** How long results are kept on the stand-ins (ms), so that expiry can be tested. @default 7 days */
  retentionMs?: number;
}

export interface StartedBackend {
  provider: Provider;
  env: Record<string, string>;
  /** Requests the stand-ins served since the last call, by operation (for benchmarks). */
  takeRequestCounts(): Record<string, number>;
  close(): Promise<void>;
}

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;
/** The providers with an offline backend in this version: each `src/testing/<name>/backend.ts` exports `startBackend`. */
export const BACKENDS = ["aws", "gcp", "azure"] as const;

interface BackendModule {
  startBackend(options: { module: string | URL; retentionMs: number }): Promise<StartedBackend>;
}
const KNOWN = new Set(["module", "retentionMs"]);

export async function startTestBackend(providerName: string, options: TestBackendOptions): Promise<StartedBackend> {
  const { module, retentionMs } = checked(options);
  if (!(BACKENDS as readonly string[]).includes(providerName)) {
    throw new InvalidError(
      `startTestBackend: no offline backend for provider ${describe(providerName)} in this version (it has: ${BACKENDS.join(", ")})`,
    );
  }
  // Found by name, as the core finds providers: nothing of a backend loads until it is asked for.
  const backend = (await import(/* @vite-ignore */ `./${providerName}/backend.js`)) as BackendModule;
  return backend.startBackend({ module, retentionMs });
}

function checked(options: TestBackendOptions): { module: string | URL; retentionMs: number } {
  if (options === null || typeof options !== "object") {
    throw new InvalidError(`startTestBackend: expected { module, retentionMs? }, got ${describe(options)}`);
  }
  const unknown = Object.keys(options).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) {
    throw new InvalidError(`startTestBackend: unknown option ${describe(unknown[0])} (it takes module and retentionMs)`);
  }
  const { module, retentionMs = SEVEN_DAYS_MS } = options;
  if (!(module instanceof URL) && (typeof module !== "string" || module === "")) {
    throw new InvalidError(`startTestBackend: module must be a path or URL, got ${describe(module)}`);
  }
  if (typeof retentionMs !== "number" || !Number.isSafeInteger(retentionMs) || retentionMs <= 0) {
    throw new InvalidError(
      `startTestBackend: retentionMs must be a whole number of milliseconds > 0, got ${describe(retentionMs)}`,
    );
  }
  return { module, retentionMs };
}
