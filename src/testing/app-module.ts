/**
 * The app module an offline backend runs: imported (TypeScript through tsx), and the manifests
 * of the apps its exported functions belong to, whichever copy of faasade made them.
 */
import { pathToFileURL } from "node:url";
import type { App } from "../core/app.js";
import { InvalidError } from "../core/errors.js";
import { type AppManifest, manifestOf } from "../core/manifest.js";
import { need } from "./aws/optional.js";
import { isTypeScript } from "./aws/task-root.js";

export async function importApp(moduleUrl: string): Promise<Record<string, unknown>> {
  try {
    return (await import(moduleUrl)) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: string }).code !== "ERR_UNKNOWN_FILE_EXTENSION" || !isTypeScript(moduleUrl)) throw err;
    const { tsImport } = await need("tsx", () => import("tsx/esm/api"));
    return (await tsImport(moduleUrl, import.meta.url)) as Record<string, unknown>;
  }
}

/** The apps the module's exported functions belong to (their own App objects, whichever copy of faasade made them). */
export function appsOf(exports: Record<string, unknown>): AppManifest[] {
  const seen = new Map<string, AppManifest>();
  for (const value of Object.values(exports)) {
    const handle = value as { appName?: string; definition?: () => { app: App } };
    if (typeof handle?.definition !== "function" || typeof handle.appName !== "string") continue;
    const { app } = handle.definition();
    const id = `${app.environment}/${app.name}`;
    if (!seen.has(id)) seen.set(id, manifestOf(app));
  }
  return [...seen.values()];
}

/** A backend's module as a URL, and the apps it defines; a module that defines none is an `InvalidError`. */
export async function appsOfModule(module: string | URL): Promise<{ moduleUrl: string; manifests: AppManifest[] }> {
  const moduleUrl = module instanceof URL ? module.href : /^[a-z]+:/.test(module) ? module : pathToFileURL(module).href;
  const manifests = appsOf(await importApp(moduleUrl));
  if (manifests.length === 0) throw new InvalidError(`startTestBackend: ${moduleUrl} defines no app functions (export them)`);
  return { moduleUrl, manifests };
}
