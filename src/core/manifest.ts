/**
 * What a deployment records of an app: its functions, their modules and options, as plain
 * data. The CLI makes it by importing the app's module; every deployment (the local server,
 * each cloud) stores it and rebuilds specs from it, so any process finds a deployed function.
 */
import type { App } from "./app.js";
import type { ResolvedOptions } from "./options.js";
import type { FunctionSpec } from "./provider.js";
import { Retries } from "./retries.js";

export interface FunctionManifest {
  name: string;
  module: string;
  isGenerator: boolean;
  options: Omit<ResolvedOptions, "retries"> & {
    retries: { maxRetries: number; backoffCoefficient: number; initialDelayMs: number; maxDelayMs: number };
  };
}

export interface AppManifest {
  app: string;
  environment: string;
  functions: FunctionManifest[];
}

export function manifestOf(app: App): AppManifest {
  const functions: FunctionManifest[] = [];
  for (const fn of app.functions()) {
    const { spec } = fn.definition();
    // providerOptions stay as the user wrote them (plain data): a provider's deploy reads its own key.
    const { retries, ...options } = spec.options;
    const { maxRetries, backoffCoefficient, initialDelayMs, maxDelayMs } = retries;
    functions.push({
      name: spec.name,
      module: spec.module,
      isGenerator: spec.isGenerator,
      options: { ...options, retries: { maxRetries, backoffCoefficient, initialDelayMs, maxDelayMs } },
    });
  }
  return { app: app.name, environment: app.environment, functions };
}

export function specOf(app: AppManifest, fn: FunctionManifest): FunctionSpec {
  const options: ResolvedOptions = Object.freeze({
    ...fn.options,
    retries: new Retries(fn.options.retries),
    env: Object.freeze({ ...fn.options.env }),
  });
  return Object.freeze({
    app: app.app,
    environment: app.environment,
    name: fn.name,
    module: fn.module,
    isGenerator: fn.isGenerator,
    options,
  });
}
