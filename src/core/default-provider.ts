/**
 * The provider an `App` gets when none is given: `FAASADE_PROVIDER`, else local. The local
 * provider is imported through a hook set by `faasade/local` so the core stays free of it.
 */
import { aws } from "../providers/aws/index.js";
import { deployment } from "../providers/local/deploy/client.js";
import { local } from "../providers/local/index.js";
import { InvalidError } from "./errors.js";
import type { Provider } from "./provider.js";

type Factory = () => Provider;
const factories = new Map<string, Factory>([
  ["local", () => local()],
  ["aws", () => aws()],
]);

export function registerProviderFactory(name: string, factory: Factory): void {
  factories.set(name, factory);
}

export function defaultProvider(): Provider {
  const name = process.env.FAASADE_PROVIDER || "local";
  const factory = factories.get(name);
  if (factory === undefined) {
    throw new InvalidError(
      `FAASADE_PROVIDER=${JSON.stringify(name)} is not available${["gcp", "azure"].includes(name) ? " yet in this version" : ""}; use "local" or "aws", or pass { provider } to new App`,
    );
  }
  return factory();
}

const deployments = new Map<string, Provider>();

/**
 * Where handles by name and call ids go when this process does not define the app: the local
 * deployment under FAASADE_HOME, or the cloud that FAASADE_PROVIDER names.
 */
export function defaultDeployment(): Provider | undefined {
  const name = process.env.FAASADE_PROVIDER || "local";
  let found = deployments.get(name);
  if (found === undefined) {
    if (name === "local") found = deployment();
    else if (name === "aws") found = aws();
    else return undefined;
    deployments.set(name, found);
  }
  return found;
}
