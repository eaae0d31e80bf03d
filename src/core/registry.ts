/** Apps and functions defined in this process, by name: what `fromName` finds without a deployment. */
import type { App } from "./app.js";

const apps = new Map<string, App>();
const key = (name: string, environment: string) => `${environment}/${name}`;

export function registerApp(app: App): void {
  apps.set(key(app.name, app.environment), app);
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
