// Deploying whole apps on Azure against the ARM test double (src/testing/azure/arm-double.ts) and azurite,
// through the real SDK clients: what a first deploy makes (Flex plan, function app, settings, the package
// published with its host.json, queues, container, lifecycle rule, manifest), that a redeploy of the same
// code sends only reads, a code update publishing once, always-ready 2 → 0, a failed OneDeploy body, a bad
// providerOptions.azure refused before any request, Premium, a removed function going, list, destroy.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { type AddressInfo, connect, createServer } from "node:net";
import { QueueServiceClient } from "@azure/storage-queue";
import { BlobServiceClient } from "@azure/storage-blob";
import { App } from "faasade";
import { unzipSync, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bundle } from "../dist/src/cloud/bundle.js";
import { InvalidError, NotFoundError, ProviderError } from "../src/core/errors.js";
import { type AppManifest, manifestOf } from "../dist/src/core/manifest.js";
import { azureClients } from "../src/providers/azure/clients.js";
import type { AzureDeployOptions } from "../src/providers/azure/deploy/context.js";
import { deployApps, destroyAzure } from "../src/providers/azure/deploy/resources.js";
import { ruleName } from "../src/providers/azure/deploy/storage.js";
import { listAzure } from "../src/providers/azure/deployer.js";
import { containerName, poisonQueueName, queueName, siteName } from "../src/providers/azure/names.js";
import {
  type ArmDouble,
  type ArmOperation,
  type ArmSite,
  loopbackCredential,
  startArmDouble,
} from "../src/testing/azure/arm-double.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read ARM's wire JSON freely
type Wire = Record<string, any>;
const subscriptionId = "00000000-0000-0000-0000-0000000000aa";
const resourceGroup = "rg-deploy";
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
let arm: ArmDouble;
let azurite: { connectionString: string; close(): Promise<void> };
let options: AzureDeployOptions;
const seen: ArmSite[] = [];

beforeAll(async () => {
  [arm, azurite] = await Promise.all([startArmDouble({ onSite: (s) => void seen.push(structuredClone(s)) }), startAzurite()]);
  options = {
    subscriptionId,
    resourceGroup,
    region: "westeurope",
    credential: loopbackCredential,
    storage: { connectionString: azurite.connectionString },
    endpoints: { arm: arm.url },
    ca: arm.ca,
    pollMs: 10,
    retentionMs: 36 * 3600 * 1000,
  };
}, 60_000);
afterAll(() => Promise.all([arm?.close(), azurite?.close()]));

/** A stand-in for the app's bundle: a real zip (deploy adds each app's host.json to it). */
function code(text: string): Bundle {
  const zip = zipSync({ "index.mjs": [new TextEncoder().encode(text), { mtime: new Date("2020-01-01T00:00:00Z") }] });
  return { zip, hash: createHash("sha256").update(zip).digest("hex"), installed: [] };
}
const ref = (app: string) => ({ prefix: "faasade", subscriptionId, resourceGroup, app, environment: "main" });

type Defined = [name: string, options: object];
function manifest(name: string, defined: Defined[]): AppManifest {
  const app = new App(name);
  for (const [fn, opts] of defined) {
    const f = { [fn]: (x: number) => x }[fn] as (x: number) => number;
    app.function(f, opts as never);
  }
  return manifestOf(app as never);
}

const WRITES: ArmOperation[] = [
  "appServicePlans.createOrUpdate",
  "webApps.createOrUpdate",
  "webApps.update",
  "webApps.updateApplicationSettings",
  "managementPolicies.createOrUpdate",
  "managementPolicies.delete",
  "scm.publish",
  "scm.zipDeploy",
];
const writes = () => Object.fromEntries(WRITES.map((op) => [op, arm.count(op)]));
const since = (mark: Record<string, number>) =>
  Object.fromEntries(WRITES.map((op) => [op, arm.count(op) - (mark[op] ?? 0)]).filter(([, n]) => n !== 0));

const storage = () => ({
  queues: QueueServiceClient.fromConnectionString(azurite.connectionString),
  blobs: BlobServiceClient.fromConnectionString(azurite.connectionString),
});
async function queueExists(name: string) {
  return storage().queues.getQueueClient(name).exists();
}
async function containerExists(name: string) {
  return storage().blobs.getContainerClient(name).exists();
}
const props = (site: ArmSite | undefined) => (site?.resource.properties ?? {}) as Wire;
const hostJsonOf = (zip: Buffer) => JSON.parse(new TextDecoder().decode(unzipSync(new Uint8Array(zip))["host.json"]));

describe("azure deploy (Flex Consumption)", () => {
  const app = () =>
    manifest("shop", [
      ["square", { maxInputs: 4, timeoutMs: 60_000, env: { GREETING: "hi" } }],
      ["page", { web: {}, memoryMb: 3000, maxContainers: 500 }],
    ]);

  it("makes the plan, function app, settings, package, queues, container, rule and manifest", async () => {
    const deployed = await deployApps([app()], options, async () => code("v1"));
    expect(deployed.map((d) => [d.name, d.changed])).toEqual([
      ["square", { plan: true, site: true, settings: false, code: true }],
      ["page", { plan: true, site: true, settings: false, code: true }],
    ]);
    const name = siteName(ref("shop"), "square");
    const plan = arm.plans.get(name) as Wire;
    expect(plan.sku).toEqual({ name: "FC1", tier: "FlexConsumption" });
    expect(plan.properties.reserved).toBe(true);
    const site = arm.site(name);
    expect(site?.resource.kind).toBe("functionapp,linux");
    expect(site?.resource.tags).toMatchObject({ "faasade-app": "shop", "faasade-env": "main", "faasade-function": "square" });
    const config = props(site).functionAppConfig;
    expect(config.runtime).toEqual({ name: "node", version: "22" });
    expect(config.scaleAndConcurrency).toEqual({
      maximumInstanceCount: 100,
      instanceMemoryMB: 2048,
      alwaysReady: [],
      triggers: { http: { perInstanceConcurrency: 4 } },
    });
    expect(config.deployment.storage).toEqual({
      type: "blobContainer",
      value: storage().blobs.getContainerClient(name).url,
      authentication: {
        type: "StorageAccountConnectionString",
        storageAccountConnectionStringName: "DEPLOYMENT_STORAGE_CONNECTION_STRING",
      },
    });
    expect(await containerExists(name)).toBe(true);
    expect(site?.settings).toMatchObject({
      FAASADE_PROVIDER: "azure",
      FAASADE_APP: "shop",
      FAASADE_ENVIRONMENT: "main",
      FAASADE_FUNCTION: "square",
      FAASADE_AZURE_QUEUE: queueName(ref("shop"), "square"),
      FAASADE_AZURE_STORAGE: azurite.connectionString,
      AzureWebJobsStorage: azurite.connectionString,
      DEPLOYMENT_STORAGE_CONNECTION_STRING: azurite.connectionString,
      FAASADE_AZURE_TIMEOUT_MS: "60000",
      AZURE_SUBSCRIPTION_ID: subscriptionId,
      FAASADE_AZURE_RESOURCE_GROUP: resourceGroup,
      FAASADE_AZURE_PREFIX: "faasade",
      FAASADE_AZURE_RETENTION_MS: String(36 * 3600 * 1000),
      GREETING: "hi",
    });
    expect(site?.settings).not.toHaveProperty("WEBSITE_RUN_FROM_PACKAGE");
    expect(site?.settings).not.toHaveProperty("FAASADE_AZURE_WEB");
    // The package: the bundle with this app's host.json, its hash the app's code tag.
    expect(site?.packages).toHaveLength(1);
    const pkg = site?.packages[0] as Buffer;
    expect(site?.resource.tags).toMatchObject({ "faasade-code": createHash("sha256").update(pkg).digest("hex") });
    expect(hostJsonOf(pkg)).toEqual({
      version: "2.0",
      extensionBundle: { id: "Microsoft.Azure.Functions.ExtensionBundle", version: "[4.*, 5.0.0)" },
      functionTimeout: "00:01:30",
      extensions: {
        http: { routePrefix: "" },
        queues: {
          batchSize: 4,
          newBatchThreshold: 0,
          maxDequeueCount: 5,
          visibilityTimeout: "00:00:00",
          messageEncoding: "base64",
        },
      },
    });
    // The web function: its trigger level, its memory rounded up to Flex's size, maxContainers as the maximum.
    const page = arm.site(siteName(ref("shop"), "page"));
    expect(page?.settings.FAASADE_AZURE_WEB).toBe("anonymous");
    expect(props(page).functionAppConfig.scaleAndConcurrency).toMatchObject({
      instanceMemoryMB: 4096,
      maximumInstanceCount: 500,
    });
    expect(deployed[1]?.webUrl).toBe(`https://${props(page).defaultHostName}/`);
    expect(deployed[0]?.webUrl).toBeUndefined();
    for (const fn of ["square", "page"]) {
      expect(await queueExists(queueName(ref("shop"), fn))).toBe(true);
      expect(await queueExists(poisonQueueName(queueName(ref("shop"), fn)))).toBe(true);
    }
    const container = containerName(ref("shop"));
    const manifestText = (
      await storage().blobs.getContainerClient(container).getBlobClient("manifest.json").downloadToBuffer()
    ).toString();
    expect(JSON.parse(manifestText)).toEqual(app());
    const rules = (arm.policies.get("devstoreaccount1") as Wire).properties.policy.rules;
    expect(rules).toContainEqual(
      expect.objectContaining({
        name: ruleName(container),
        definition: expect.objectContaining({
          actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 2 } } },
          filters: expect.objectContaining({
            prefixMatch: expect.arrayContaining([`${container}/results/`, `${container}/calls/`]),
          }),
        }),
      }),
    );
    expect(rules[0].definition.filters.prefixMatch).not.toContain(`${container}/manifest.json`);
  });

  it("changes nothing on a second deploy of the same code: only reads", async () => {
    const mark = writes();
    const deployed = await deployApps([app()], options, async () => code("v1"));
    expect(since(mark)).toEqual({});
    expect(deployed.every((d) => !d.changed.site && !d.changed.code && !d.changed.settings && !d.changed.plan)).toBe(true);
  });

  it("publishes a code update once per function app, and tags it", async () => {
    const mark = writes();
    await deployApps([app()], options, async () => code("v2"));
    expect(since(mark)).toEqual({ "scm.publish": 2, "webApps.createOrUpdate": 2 });
    const site = arm.site(siteName(ref("shop"), "square"));
    expect(site?.packages).toHaveLength(2);
    expect(site?.resource.tags?.["faasade-code" as never]).toBe(
      createHash("sha256")
        .update(site?.packages[1] as Buffer)
        .digest("hex"),
    );
  });

  it("changes always-ready instances 2 → 0 (a read and a PUT of the site), which onSite follows", async () => {
    // keepWarm's own path is src/providers/azure/sites-api.ts (the lead's); this row drives ARM as it does.
    const web = await azureClients({
      ...options,
      subscriptionId,
      storage: { connectionString: azurite.connectionString },
    } as never).web();
    const name = siteName(ref("shop"), "square");
    const warm = async (n: number) => {
      const found = await web.webApps.get(resourceGroup, name);
      const scale = {
        ...found.functionAppConfig?.scaleAndConcurrency,
        alwaysReady: n > 0 ? [{ name: "http", instanceCount: n }] : [],
      };
      await web.webApps.createOrUpdate(resourceGroup, name, {
        ...found,
        functionAppConfig: { ...found.functionAppConfig, scaleAndConcurrency: scale },
      });
    };
    const before = seen.length;
    await warm(2);
    expect(props(arm.site(name)).functionAppConfig.scaleAndConcurrency.alwaysReady).toEqual([{ name: "http", instanceCount: 2 }]);
    expect(props(seen.at(-1)).functionAppConfig.scaleAndConcurrency.alwaysReady).toEqual([{ name: "http", instanceCount: 2 }]);
    await warm(0);
    expect(props(arm.site(name)).functionAppConfig.scaleAndConcurrency.alwaysReady).toEqual([]);
    expect(seen.length).toBe(before + 2);
    // The code and settings stayed: a redeploy sends nothing.
    const mark = writes();
    await deployApps([app()], options, async () => code("v2"));
    expect(since(mark)).toEqual({});
  });

  it("deploys minContainers as always-ready instances of the app's HTTP group", async () => {
    const warmApp = manifest("shop", [
      ["square", { maxInputs: 4, timeoutMs: 60_000, env: { GREETING: "hi" }, minContainers: 2 }],
      ["page", { web: {}, memoryMb: 3000, maxContainers: 500 }],
    ]);
    const mark = writes();
    await deployApps([warmApp], options, async () => code("v2"));
    expect(since(mark)).toEqual({ "webApps.createOrUpdate": 1 });
    const name = siteName(ref("shop"), "square");
    expect(props(arm.site(name)).functionAppConfig.scaleAndConcurrency.alwaysReady).toEqual([{ name: "http", instanceCount: 2 }]);
  });

  it("rides through passing refusals of ARM and the SCM host (503, 429) during a deploy", async () => {
    const riding = manifest("ride", [["f", {}]]);
    arm.failNext("webApps.createOrUpdate", 1, 503);
    arm.failNext("scm.publish", 1, 503);
    arm.failNext("scm.deploymentStatus", 2, 429);
    const mark = writes();
    const [deployed] = await deployApps([riding], options, async () => code("r1"));
    expect(deployed?.changed.code).toBe(true);
    const name = siteName(ref("ride"), "f");
    expect(arm.site(name)?.packages).toHaveLength(1);
    // Each refused request was sent again: two publishes seen, one package kept.
    expect(since(mark)).toMatchObject({ "scm.publish": 2 });
    await destroyAzure("ride", "main", options);
    expect(arm.site(name)).toBeUndefined();
  }, 30_000);

  it("keeps the settings Azure adds (Application Insights) and drops an env var the function no longer has", async () => {
    const withEnv = (env: Record<string, string>) => manifest("settings", [["f", { env }]]);
    await deployApps([withEnv({ OLD: "1", KEEP: "2" })], options, async () => code("s1"));
    const name = siteName(ref("settings"), "f");
    const site = arm.site(name) as ArmSite;
    site.settings = { ...site.settings, APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x" };
    const mark = writes();
    await deployApps([withEnv({ KEEP: "2" })], options, async () => code("s1"));
    expect(since(mark)).toMatchObject({ "webApps.updateApplicationSettings": 1 });
    expect(since(mark)).not.toHaveProperty("scm.publish");
    expect(arm.site(name)?.settings).toMatchObject({ KEEP: "2", APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=x" });
    expect(arm.site(name)?.settings).not.toHaveProperty("OLD");
    await destroyAzure("settings", "main", options);
  });

  it("waits for a function app whose PUT answers InProgress (ARM's long-running operation, polled)", async () => {
    const polled = await startArmDouble({ lro: "poll" });
    try {
      const at = { ...options, endpoints: { arm: polled.url }, ca: polled.ca };
      const [deployed] = await deployApps([manifest("slow", [["f", {}]])], at, async () => code("l1"));
      expect(deployed?.changed).toMatchObject({ site: true, code: true });
      const name = siteName(ref("slow"), "f");
      expect(polled.site(name)?.resource.properties).toMatchObject({ provisioningState: "Succeeded" });
      expect(polled.count("webApps.get")).toBeGreaterThan(1);
      expect(polled.site(name)?.packages).toHaveLength(1);
      await destroyAzure("slow", "main", at);
    } finally {
      await polled.close();
    }
  });

  it("reports a failed OneDeploy (a 200 whose body says Failed) as a ProviderError naming the deployment, and publishes again next time", async () => {
    const failing = manifest("broken", [["f", {}]]);
    arm.failDeployments(1, "the worker could not start: SyntaxError in index.mjs");
    const err = await deployApps([failing], options, async () => code("bad")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    const name = siteName(ref("broken"), "f");
    expect((err as Error).message).toMatch(
      new RegExp(`deployment [0-9a-f-]{36} of function app ${name} failed .*SyntaxError in index\\.mjs`),
    );
    expect(arm.site(name)?.resource.tags).not.toHaveProperty("faasade-code");
    const mark = writes();
    await deployApps([failing], options, async () => code("bad"));
    expect(since(mark)).toMatchObject({ "scm.publish": 1 });
    expect(arm.site(name)?.packages).toHaveLength(1);
  });

  it("refuses a bad providerOptions.azure, quoting it, before any request", async () => {
    const before = arm.requests.length;
    const bad = (azure: object) =>
      deployApps([manifest("bad", [["f", { providerOptions: { azure } }]])], options, async () => code("x"));
    await expect(bad({ instanceMemoryMb: 1024 })).rejects.toThrow(
      /providerOptions\.azure\.instanceMemoryMb must be 512, 2048 or 4096, got 1024/,
    );
    await expect(bad({ maximumInstanceCount: 5 })).rejects.toThrow(
      /maximumInstanceCount must be an integer from 40 to 1000, got 5/,
    );
    await expect(bad({ httpConcurrency: "many" })).rejects.toThrow(
      /httpConcurrency must be an integer from 1 to 1000, got "many"/,
    );
    await expect(bad({ cpu: 2 })).rejects.toThrow(/has no option "cpu"; known: instanceMemoryMb/);
    await expect(bad({ environment: { WEBSITE_NODE_DEFAULT_VERSION: "1" } })).rejects.toBeInstanceOf(InvalidError);
    await expect(deployApps([manifest("big", [["f", { memoryMb: 8192 }]])], options, async () => code("x"))).rejects.toThrow(
      /memoryMb 8192 is more than Flex Consumption's largest instance/,
    );
    expect(arm.requests.length).toBe(before);
  });

  it("removes a function the app no longer has, with its plan, queues and deployment container", async () => {
    const name = siteName(ref("shop"), "page");
    await deployApps(
      [manifest("shop", [["square", { maxInputs: 4, timeoutMs: 60_000, env: { GREETING: "hi" }, minContainers: 2 }]])],
      options,
      async () => code("v2"),
    );
    expect(arm.site(name)).toBeUndefined();
    expect(arm.plans.has(name)).toBe(false);
    expect(await queueExists(queueName(ref("shop"), "page"))).toBe(false);
    expect(await containerExists(name)).toBe(false);
    expect(arm.site(siteName(ref("shop"), "square"))).toBeDefined();
  });

  it("lists the deployed apps by their function apps' tags", async () => {
    const apps = await listAzure(options);
    expect(apps.map((a) => a.app).sort()).toEqual(["broken", "shop"]);
    expect(apps.find((a) => a.app === "shop")?.functions.map((f) => f.name)).toEqual(["square"]);
    expect(apps.every((a) => a.deployedAt > 0)).toBe(true);
  });

  it("destroys everything of an app and keeps the account's other lifecycle rules", async () => {
    // A rule of the user's, beside faasade's.
    const policy = arm.policies.get("devstoreaccount1") as Wire;
    const theirs = {
      name: "usersOwnRule",
      enabled: true,
      type: "Lifecycle",
      definition: {
        filters: { blobTypes: ["blockBlob"], prefixMatch: ["logs/"] },
        actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 30 } } },
      },
    };
    policy.properties.policy.rules.push(theirs);
    const container = containerName(ref("shop"));
    await destroyAzure("shop", "main", options);
    const name = siteName(ref("shop"), "square");
    expect(arm.site(name)).toBeUndefined();
    expect(arm.plans.has(name)).toBe(false);
    expect(await queueExists(queueName(ref("shop"), "square"))).toBe(false);
    expect(await queueExists(poisonQueueName(queueName(ref("shop"), "square")))).toBe(false);
    expect(await containerExists(name)).toBe(false);
    expect(await containerExists(container)).toBe(false);
    const rules = (arm.policies.get("devstoreaccount1") as Wire).properties.policy.rules as { name: string }[];
    expect(rules.map((r) => r.name)).toContain("usersOwnRule");
    expect(rules.map((r) => r.name)).not.toContain(ruleName(container));
    await expect(destroyAzure("shop", "main", options)).rejects.toBeInstanceOf(NotFoundError);
    await destroyAzure("broken", "main", options);
    expect((arm.policies.get("devstoreaccount1") as Wire).properties.policy.rules).toEqual([theirs]);
  });
});

describe("azure deploy (Elastic Premium)", () => {
  it("makes an EP1 plan and a Node 22 app zip-deployed to run from its package, always-ready as minimum elastic instances", async () => {
    const premium = { ...options, plan: "premium" as const };
    const app = manifest("prem", [["f", { minContainers: 1, maxContainers: 30 }]]);
    const mark = writes();
    await deployApps([app], premium, async () => code("p1"));
    expect(since(mark)).toMatchObject({ "scm.zipDeploy": 1, "appServicePlans.createOrUpdate": 1 });
    expect(since(mark)).not.toHaveProperty("scm.publish");
    const name = siteName(ref("prem"), "f");
    const plan = arm.plans.get(name) as Wire;
    expect(plan.sku).toEqual({ name: "EP1", tier: "ElasticPremium" });
    expect(plan.kind).toBe("elastic");
    expect(plan.properties).toMatchObject({ reserved: true, maximumElasticWorkerCount: 30 });
    const site = arm.site(name);
    expect(props(site).siteConfig).toMatchObject({
      linuxFxVersion: "Node|22",
      minimumElasticInstanceCount: 1,
      functionAppScaleLimit: 30,
    });
    expect(props(site).functionAppConfig).toBeUndefined();
    expect(site?.settings).toMatchObject({
      FUNCTIONS_WORKER_RUNTIME: "node",
      FUNCTIONS_EXTENSION_VERSION: "~4",
      WEBSITE_RUN_FROM_PACKAGE: "1",
    });
    const again = writes();
    await deployApps([app], premium, async () => code("p1"));
    expect(since(again)).toEqual({});
    await destroyAzure("prem", "main", premium);
    expect(arm.site(name)).toBeUndefined();
  });
});

/** Azurite (Blob and Queue) on free loopback ports, in memory: the storage of these tests. */
async function startAzurite(): Promise<{ connectionString: string; close(): Promise<void> }> {
  const entry = createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
  const ports = [await freePort(), await freePort(), await freePort()];
  const [blob, queue, table] = ports.map(String) as [string, string, string];
  const child: ChildProcess = spawn(
    process.execPath,
    [entry, "--silent", "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck"].concat(
      ["--blobHost", "127.0.0.1", "--blobPort", blob, "--queueHost", "127.0.0.1", "--queuePort", queue],
      ["--tableHost", "127.0.0.1", "--tablePort", table],
    ),
    { stdio: "ignore" },
  );
  const deadline = Date.now() + 30_000;
  while (!(await Promise.all(ports.slice(0, 2).map(canConnect))).every(Boolean)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error("azurite did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  const connectionString = [
    "DefaultEndpointsProtocol=http",
    "AccountName=devstoreaccount1",
    `AccountKey=${DEV_KEY}`,
    `BlobEndpoint=http://127.0.0.1:${blob}/devstoreaccount1`,
    `QueueEndpoint=http://127.0.0.1:${queue}/devstoreaccount1`,
  ].join(";");
  return {
    connectionString,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    },
  };
}
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
