/**
 * What a deployment records of an app: its functions, their modules and options, as plain
 * data. The CLI makes it by importing the app's module; the server rebuilds specs from it.
 */
import type { App } from "../../../core/app.js";
import type { ResolvedOptions } from "../../../core/options.js";
import type { FunctionSpec } from "../../../core/provider.js";
import { Retries } from "../../../core/retries.js";

export interface FunctionManifest {
  name: string;
  module: string;
  isGenerator: boolean;
  options: Omit<ResolvedOptions, "retries" | "providerOptions"> & {
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
    const { retries, providerOptions: _ignored, ...options } = spec.options;
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
    providerOptions: undefined,
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
