/**
 * Providers by name: `FAASADE_PROVIDER=<name>` (and handles that reach deployed apps) load the
 * module `faasade/<name>` when first needed, so the core imports no provider and a program
 * pays only for the providers it uses. A provider module exports the members of
 * `ProviderModule` (docs/providers.md).
 */
import { InvalidError } from "./errors.js";
import type { Provider } from "./provider.js";

/** What `faasade/<name>` exports for the core and the CLI to find it by name. */
export interface ProviderModule {
  /** The provider with its defaults (environment variables included): what `FAASADE_PROVIDER=<name>` gives. */
  defaultProvider(): Provider;
  /** The provider that reaches apps deployed there (handles by name, call ids). @default defaultProvider */
  defaultDeployment?(): Provider;
}

/** The providers this version ships, each exported as `faasade/<name>`. */
export const PROVIDER_NAMES = ["local", "aws", "gcp", "azure"] as const;
const NAME = /^[a-z][a-z0-9-]{0,39}$/;

const modules = new Map<string, Promise<ProviderModule>>();

/** The name `FAASADE_PROVIDER` sets, else "local". */
export function providerName(): string {
  return process.env.FAASADE_PROVIDER || "local";
}

/**
 * Makes `faasade/<name>` known without importing it: a cloud runtime bundled into one file
 * (where no `faasade` package is there to import) provides its own client side this way, so
 * that calls made inside a function reach the same cloud.
 */
export function provideModule(name: string, module: ProviderModule): void {
  modules.set(name, Promise.resolve(module));
}

/** Imports `faasade/<name>` once; an unknown or uninstalled provider is an `InvalidError` that says what to do. */
export function loadProvider(name: string): Promise<ProviderModule> {
  let found = modules.get(name);
  if (found === undefined) {
    found = importProvider(name);
    modules.set(name, found);
    found.catch(() => modules.delete(name));
  }
  return found;
}

async function importProvider(name: string): Promise<ProviderModule> {
  const available = `this version of faasade has: ${PROVIDER_NAMES.join(", ")}`;
  if (!NAME.test(name)) throw new InvalidError(`provider ${JSON.stringify(name)} is not a provider name (${available})`);
  let loaded: Partial<ProviderModule>;
  try {
    loaded = (await import(/* @vite-ignore */ `faasade/${name}`)) as Partial<ProviderModule>;
  } catch (cause) {
    // Only "no such subpath" means no such provider; a provider that fails to load says why itself.
    const { code, message } = cause as { code?: string; message?: string };
    const absent =
      code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || (code === "ERR_MODULE_NOT_FOUND" && message?.includes(`faasade/${name}`));
    if (!absent) throw cause;
    throw new InvalidError(
      `provider ${JSON.stringify(name)} is not available (${available}); set FAASADE_PROVIDER to one of them, ` +
        "install a faasade version whose exports include faasade/" +
        name +
        ", or pass { provider } to new App",
      { cause },
    );
  }
  if (typeof loaded.defaultProvider !== "function") {
    throw new InvalidError(`faasade/${name} is not a provider module: it exports no defaultProvider()`);
  }
  return loaded as ProviderModule;
}

const deployments = new Map<string, Promise<Provider>>();

/**
 * Where handles by name and call ids go when this process does not define the app: the
 * deployment of the provider `FAASADE_PROVIDER` names (local: the one under FAASADE_HOME).
 */
export function defaultDeployment(): Promise<Provider> {
  const name = providerName();
  let found = deployments.get(name);
  if (found === undefined) {
    found = loadProvider(name).then((m) => (m.defaultDeployment ?? m.defaultProvider)());
    deployments.set(name, found);
    found.catch(() => deployments.delete(name));
  }
  return found;
}
