/** `faasade ls` on a cloud: the apps whose manifests the given stores hold (every page listed). */
import type { AppManifest } from "../core/manifest.js";
import type { DeployedApp, DeployedFunction, Deployer } from "../core/provider.js";
import type { AppStore } from "./calls.js";
import type { ObjectStore } from "./primitives.js";
import { keysIn } from "./keys.js";
import { keyPrefixOf } from "./names.js";
import { parseStored } from "./wire.js";

/** Stores of the app's own hold one manifest at their root; a shared one holds `<prefix><env>/<app>/manifest.json`. */
export async function listApps(stores: readonly AppStore[]): Promise<DeployedApp[]> {
  const out: DeployedApp[] = [];
  for (const { store, ref } of stores) {
    const keys =
      ref.prefix === ""
        ? [keysIn("").manifest({ app: "", environment: "" })]
        : await manifestsUnder(store.list(ref.prefix), ref.prefix);
    for (const key of keys) {
      const manifest = parseStored<AppManifest>(await store.get(key));
      if (manifest === undefined) continue;
      out.push({ ...manifest, deployedAt: (await store.modifiedAt?.(key)) ?? 0 });
    }
  }
  return out;
}

/**
 * The apps of a provider's shared bucket (under "faasade/"), else of each of its app buckets; a
 * bucket whose name only begins like this prefix's ("faasade-" begins "faasade-dev-...") holds
 * apps that `isOwn` leaves out.
 */
export async function listAppBuckets(
  shared: string | undefined,
  appBuckets: () => Promise<string[]>,
  storeOf: (bucket: string) => ObjectStore,
  isOwn: (app: DeployedApp, bucket: string) => boolean,
): Promise<DeployedApp[]> {
  if (shared !== undefined)
    return listApps([{ store: storeOf(shared), ref: { name: shared, prefix: keyPrefixOf({ bucket: shared }) } }]);
  const out: DeployedApp[] = [];
  for (const name of await appBuckets()) {
    const found = await listApps([{ store: storeOf(name), ref: { name, prefix: "" } }]);
    out.push(...found.filter((app) => isOwn(app, name)));
  }
  return out;
}

async function manifestsUnder(listed: AsyncIterable<string>, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const key of listed) {
    const [env, app, file, ...rest] = key.slice(prefix.length).split("/");
    if (env && app && file === "manifest.json" && rest.length === 0) found.push(key);
  }
  return found;
}

/**
 * What a deployer answers: the apps, each with its functions, from the provider's list of
 * deployed functions, which comes app by app, function by function, in the manifests' order.
 */
export function byManifestOrder(
  apps: readonly AppManifest[],
  deployed: readonly { name: string; resource?: string | undefined; webUrl?: string | undefined }[],
): { app: AppManifest; functions: DeployedFunction[] }[] {
  let next = 0;
  return apps.map((app) => ({
    app,
    functions: app.functions.map(() => {
      const d = deployed[next++];
      return { name: d?.name ?? "", resource: d?.resource, webUrl: d?.webUrl };
    }),
  }));
}

type Deployed = Parameters<typeof byManifestOrder>[1];

/** A cloud's deployer from its own steps, each given the provider's options (with the CLI's `log` where one is passed). */
export function cloudDeployer<O extends object>(
  options: O,
  steps: {
    deploy(module: string, apps: AppManifest[], options: O): Promise<Deployed>;
    destroy(app: string, environment: string, options: O): Promise<void>;
    list(options: O): Promise<DeployedApp[]>;
  },
): Deployer {
  const withLog = (log: ((line: string) => void) | undefined): O => ({ ...options, ...(log ? { log } : {}) });
  return {
    deploy: async (module, apps, { log } = {}) => byManifestOrder(apps, await steps.deploy(module, apps, withLog(log))),
    destroy: (app, environment, { log } = {}) => steps.destroy(app, environment, withLog(log)),
    list: () => steps.list(options),
  };
}
