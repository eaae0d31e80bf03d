/** Apps and functions defined in this process, by name: what `fromName` finds without a deployment. */
import type { App } from "./app.js";

const apps = new Map<string, App>();
const key = (name: string, environment: string) => `${environment}/${name}`;

/**
 * Every app registered in this process by any copy of faasade: a module that reaches faasade by a
 * file path, not its package name, gets a copy of its own, which a container's runtime cannot see.
 */
const everyCopy: Set<string> = ((globalThis as Record<symbol, Set<string> | undefined>)[Symbol.for("faasade.appsOfEveryCopy")] ??=
  new Set());

export function registerApp(app: App): void {
  apps.set(key(app.name, app.environment), app);
  everyCopy.add(key(app.name, app.environment));
}

/** Whether another copy of faasade in this process registered the app (see `everyCopy`). */
export function registeredByAnotherCopy(name: string, environment: string): boolean {
  return everyCopy.has(key(name, environment)) && !apps.has(key(name, environment));
}

export function unregisterApp(app: App): void {
  if (apps.get(key(app.name, app.environment)) === app) apps.delete(key(app.name, app.environment));
}

export function findApp(name: string, environment: string): App | undefined {
  return apps.get(key(name, environment));
}

/** Inside a container, faasade sets these so the module's App knows where it runs. */
export const CONTAINER_ENV = "FAASADE_TASK_ID";
export const inContainer = (): boolean => process.env[CONTAINER_ENV] !== undefined;
