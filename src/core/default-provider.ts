/**
 * The provider an `App` gets when none is given: `FAASADE_PROVIDER`, else local. The local
 * provider is imported through a hook set by `faasade/local` so the core stays free of it.
 */
import { deployment } from "../providers/local/deploy/client.js";
import { local } from "../providers/local/index.js";
import { InvalidError } from "./errors.js";
import type { Provider } from "./provider.js";

type Factory = () => Provider;
const factories = new Map<string, Factory>([["local", () => local()]]);

export function registerProviderFactory(name: string, factory: Factory): void {
  factories.set(name, factory);
}

export function defaultProvider(): Provider {
  const name = process.env.FAASADE_PROVIDER || "local";
  const factory = factories.get(name);
  if (factory === undefined) {
    throw new InvalidError(
      `FAASADE_PROVIDER=${JSON.stringify(name)} is not available${["aws", "gcp", "azure"].includes(name) ? " yet in this version" : ""}; use "local" or pass { provider } to new App`,
    );
  }
  return factory();
}

let localDeployment: Provider | undefined;

/**
 * Where handles by name and call ids go when this process does not define the app: the local
 * deployment under FAASADE_HOME, when the default provider is local.
 */
export function defaultDeployment(): Provider | undefined {
  const name = process.env.FAASADE_PROVIDER || "local";
  if (name !== "local") return undefined;
  localDeployment ??= deployment();
  return localDeployment;
}
