/**
 * `startTestBackend(provider, { module })`: a cloud provider's offline stand-ins running the app
 * that `module` defines, so that users test their own apps against emulated clouds.
 */
import { InvalidError, describe } from "../core/errors.js";
import type { Provider } from "../core/provider.js";

export interface TestBackendOptions {
  /** The module (path or URL) that defines the app and exports its functions. */
  module: string | URL;
}

export interface StartedBackend {
  provider: Provider;
  env: Record<string, string>;
  /** Requests the stand-ins served since the last call, by operation (for benchmarks). */
  takeRequestCounts(): Record<string, number>;
  close(): Promise<void>;
}

export async function startTestBackend(providerName: string, options: TestBackendOptions): Promise<StartedBackend> {
  if (options === null || typeof options !== "object" || options.module === undefined) {
    throw new InvalidError(`startTestBackend: expected { module }, got ${describe(options)}`);
  }
  if (providerName === "aws") {
    const { startAwsBackend } = await import("./aws/backend.js");
    return startAwsBackend(options.module);
  }
  throw new InvalidError(
    `startTestBackend: no offline backend for provider ${JSON.stringify(providerName)} in this version (aws only)`,
  );
}
