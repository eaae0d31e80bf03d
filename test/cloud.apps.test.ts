// `faasade ls` and the deployer shape every cloud shares (src/cloud/apps.ts), over in-memory stores.
import { describe, expect, it } from "vitest";
import { cloudDeployer, listAppBuckets } from "../src/cloud/apps.js";
import type { ObjectStore } from "../src/cloud/primitives.js";
import type { AppManifest } from "../src/core/manifest.js";

/** An in-memory object store (a test double of a bucket). */
function memoryStore(objects: Record<string, string>): ObjectStore {
  return {
    get: async (key) => (key in objects ? new TextEncoder().encode(objects[key]) : undefined),
    has: async (key) => key in objects,
    put: async (key, body) => {
      objects[key] = String(body);
      return true;
    },
    async *list(prefix) {
      for (const key of Object.keys(objects).sort()) if (key.startsWith(prefix)) yield key;
    },
    delete: async () => {},
  };
}

const manifest = (app: string, environment: string) => JSON.stringify({ app, environment, functions: [] });

describe("cloud apps", () => {
  it("lists the shared bucket's apps under faasade/, else each app bucket's, keeping only this prefix's own", async () => {
    const buckets: Record<string, ObjectStore> = {
      shared: memoryStore({ "faasade/main/a/manifest.json": manifest("a", "main"), "other/x": "" }),
      "faasade-main-b": memoryStore({ "manifest.json": manifest("b", "main") }),
      "faasade-dev-main-c": memoryStore({ "manifest.json": manifest("c", "main") }),
    };
    const storeOf = (name: string) => buckets[name] as ObjectStore;
    const all = async () => ["faasade-main-b", "faasade-dev-main-c"];
    const own = (a: { app: string; environment: string }, name: string) => name === `faasade-${a.environment}-${a.app}`;
    const shared = await listAppBuckets("shared", all, storeOf, own);
    expect(shared.map((a) => a.app)).toEqual(["a"]);
    const perApp = await listAppBuckets(undefined, all, storeOf, own);
    expect(perApp.map((a) => a.app)).toEqual(["b"]);
  });

  it("a deployer gives each step the options, with the CLI's log where one is passed", async () => {
    const seen: unknown[] = [];
    const log = (_line: string) => {};
    const app = { app: "a", environment: "main", functions: [{ name: "f" }] } as unknown as AppManifest;
    const deployer = cloudDeployer(
      { prefix: "p" },
      {
        deploy: async (_module, _apps, options) => {
          seen.push(options);
          return [{ name: "f", resource: "p-main-a-f" }];
        },
        destroy: async (_app, _env, options) => {
          seen.push(options);
        },
        list: async (options) => {
          seen.push(options);
          return [];
        },
      },
    );
    const deployed = await deployer.deploy("app.js", [app], { log });
    expect(deployed).toEqual([{ app, functions: [{ name: "f", resource: "p-main-a-f", webUrl: undefined }] }]);
    await deployer.destroy("a", "main");
    await deployer.list();
    expect(seen).toEqual([{ prefix: "p", log }, { prefix: "p" }, { prefix: "p" }]);
  });
});
