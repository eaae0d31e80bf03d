// Against a real Azure subscription: deploys the azure-live-app fixture under a prefix of its own
// through the azure deployer, calls it every way a client can, and destroys it afterwards (also when
// a test failed). Runs only with FAASADE_AZURE_LIVE=1, a subscription, a resource group, a region, a
// storage connection string and a credential DefaultAzureCredential can find; otherwise it is skipped
// with one line saying what is missing. Nothing here reaches the network, nor loads an Azure SDK,
// unless it runs: the deployer, the provider and the clients are imported in beforeAll.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { Function_, gather } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestOf } from "../src/core/manifest.js";
import type { Deployer } from "../src/core/provider.js";
import type { AzureDeployOptions } from "../src/providers/azure/deploy/context.js";
import type { AzureProvider } from "../src/providers/azure/index.js";
import { liveRows } from "./live-rows.js";
import * as fixture from "./fixtures/azure-live-app.mjs";

const MODULE = resolve("test/fixtures/azure-live-app.mjs");
const APP = "azure-live";
const env = process.env;

/** Where DefaultAzureCredential would find a credential, judged from files and variables only. */
function credentialSource(): string | undefined {
  if (env.AZURE_TENANT_ID && env.AZURE_CLIENT_ID) {
    if (env.AZURE_CLIENT_SECRET || env.AZURE_CLIENT_CERTIFICATE_PATH) return "a service principal (AZURE_CLIENT_*)";
    if (env.AZURE_FEDERATED_TOKEN_FILE) return "workload identity (AZURE_FEDERATED_TOKEN_FILE)";
  }
  if (env.IDENTITY_ENDPOINT || env.MSI_ENDPOINT) return "a managed identity";
  const azDir = env.AZURE_CONFIG_DIR || join(homedir(), ".azure");
  if (["msal_token_cache.json", "msal_token_cache.bin"].some((f) => existsSync(join(azDir, f)))) return "az login";
  if (existsSync(join(env.AZD_CONFIG_DIR || join(homedir(), ".azd"), "auth"))) return "azd auth login";
  return undefined;
}

const subscriptionId = env.AZURE_SUBSCRIPTION_ID;
const resourceGroup = env.FAASADE_AZURE_RESOURCE_GROUP || env.AZURE_RESOURCE_GROUP;
const region = env.FAASADE_AZURE_REGION || env.AZURE_LOCATION || env.AZURE_REGION;
const connectionString = env.FAASADE_AZURE_STORAGE_CONNECTION_STRING || env.AZURE_STORAGE_CONNECTION_STRING;
const missing = [
  ...(env.FAASADE_AZURE_LIVE === "1" ? [] : ["FAASADE_AZURE_LIVE is not 1"]),
  ...(subscriptionId ? [] : ["AZURE_SUBSCRIPTION_ID is not set"]),
  ...(resourceGroup ? [] : ["no resource group (FAASADE_AZURE_RESOURCE_GROUP or AZURE_RESOURCE_GROUP)"]),
  ...(region ? [] : ["no region (FAASADE_AZURE_REGION, AZURE_LOCATION or AZURE_REGION)"]),
  // By account name, each function app's identity would need roles before its first start, which
  // faasade does not assign (docs/azure.md, "Roles"): a deploy in one go needs a connection string.
  ...(connectionString
    ? []
    : ["no storage connection string (FAASADE_AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_CONNECTION_STRING)"]),
  ...(credentialSource() === undefined
    ? ["no credential for DefaultAzureCredential (AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or az login)"]
    : []),
];
const live = missing.length === 0;
if (!live) console.info(`azure live suite skipped: ${missing.join("; ")}`);

describe.skipIf(!live)("azure live suite (a real subscription)", { timeout: 600_000 }, () => {
  // A prefix of this run's own: a letter, then up to 11 of a-z and 0-9 (options.ts).
  const prefix = `fzl${Date.now().toString(36).slice(-8)}`;
  const options: AzureDeployOptions = {
    prefix,
    retentionMs: 24 * 3600 * 1000,
    ...(subscriptionId ? { subscriptionId } : {}),
    ...(resourceGroup ? { resourceGroup } : {}),
    ...(region ? { region } : {}),
    ...(connectionString ? { storage: { connectionString } } : {}),
  };
  // Made in beforeAll, not here: a skipped suite still runs this body, and nothing may load an SDK then.
  let deployer: Deployer;
  let provider: AzureProvider;
  let makeProvider: (o: AzureDeployOptions) => AzureProvider;
  const fn = <F extends (...args: never[]) => unknown>(name: string) => Function_.fromName<F>(APP, name, { provider });

  /** The always-ready instances ARM reports for a function's app (its HTTP group). */
  async function alwaysReady(name: string): Promise<number> {
    const { deployContext, appRef } = await import("../src/providers/azure/deploy/context.js");
    const { readSite } = await import("../src/providers/azure/sites-api.js");
    const { siteName } = await import("../src/providers/azure/names.js");
    const ctx = deployContext(options, false);
    const site = siteName(appRef(ctx, APP, "main"), name);
    return (await readSite(ctx.sdk, ctx.options.resourceGroup, site)).alwaysReady;
  }

  /** What a deploy stopped before its manifest leaves (the app's container and lifecycle rule), removed. */
  async function removeLeftovers(): Promise<void> {
    const { deployContext, appRef } = await import("../src/providers/azure/deploy/context.js");
    const { ensureLifecycleRule, removeContainer } = await import("../src/providers/azure/deploy/storage.js");
    const { containerName } = await import("../src/providers/azure/names.js");
    const ctx = deployContext(options, false);
    const container = containerName(appRef(ctx, APP, "main"));
    await ensureLifecycleRule(ctx, container, undefined);
    await removeContainer(ctx, container);
  }

  beforeAll(async () => {
    const { azureDeployer } = await import("../src/providers/azure/deploy/deployer.js");
    const { azure } = await import("../src/providers/azure/index.js");
    makeProvider = azure;
    deployer = azureDeployer({ ...options, log: (line) => console.info(`deploy: ${line}`) });
    provider = azure(options);
    await deployer.deploy(MODULE, [manifestOf(fixture.app)]);
  }, 3_600_000);

  afterAll(async () => {
    await provider?.close?.();
    // Whatever the tests did, the app goes. A deploy that failed before it wrote the manifest left at
    // most the app's container and its lifecycle rule: those go by name.
    try {
      await deployer?.destroy(APP, "main");
    } catch (err) {
      if ((err as Error).name !== "NotFoundError") throw err;
      console.info(`azure live suite: no manifest of ${prefix} (${(err as Error).message}); removing what is left by name`);
      await removeLeftovers();
    }
  }, 1_800_000);

  it("remote runs one input over HTTPS", async () => {
    expect(await fn<(x: number) => number>("square").remote(12)).toBe(144);
  });

  it("remote of a function past 220 s goes through the queue and Blob, and still answers", async () => {
    expect(await fn<(x: number) => number>("cube").remote(3)).toBe(27);
  });

  it("Function.lookup resolves a deployed function and rejects an unknown one", async () => {
    const square = await Function_.lookup<(x: number) => number>(APP, "square", { provider });
    expect(await square.remote(7)).toBe(49);
    await expect(Function_.lookup(APP, "no-such-function", { provider })).rejects.toMatchObject({ name: "NotFoundError" });
  });

  it("map returns every input's result, in order", async () => {
    const out: number[] = [];
    for await (const y of fn<(x: number) => number>("square").map([1, 2, 3, 4, 5])) out.push(y);
    expect(out).toEqual([1, 4, 9, 16, 25]);
  });

  it("spawn then get: a queue message, its result in Blob; get again reads the same result; gather", async () => {
    const call = await fn<(x: number) => number>("square").spawn(9);
    expect(await call.get({ timeoutMs: 300_000 })).toBe(81);
    expect(await call.get({ timeoutMs: 0 })).toBe(81);
    const calls = await Promise.all([2, 4].map((x) => fn<(x: number) => number>("cube").spawn(x)));
    expect(await gather(...calls)).toEqual([8, 64]);
  });

  liveRows({ app: APP, provider: () => provider, another: () => makeProvider(options) });

  it("keepWarm 1 sets one always-ready instance, getCurrentStats answers, keepWarm 0 sets none", async () => {
    const square = fn<(x: number) => number>("square");
    await square.keepWarm(1);
    expect(await alwaysReady("square")).toBe(1);
    const stats = await square.getCurrentStats();
    expect(Object.keys(stats).sort()).toEqual(["backlog", "numRunningInputs", "numTotalRunners"]);
    expect(stats.backlog).toBeGreaterThanOrEqual(0);
    await square.keepWarm(0);
    expect(await alwaysReady("square")).toBe(0);
  });

  it("a function that is not a web function has no web URL; ls lists the app", async () => {
    expect(await fn("square").getWebUrl()).toBeUndefined();
    const listed = await deployer.list();
    expect(listed.map((a) => a.app)).toContain(APP);
  });
});
