// The pieces of an Azure deploy's package and settings that need no cloud: the bundle's entry and its
// package.json (the Azure SDKs pinned for the remote build, none bundled), each function app's host.json
// added to the app's zip deterministically, and the settings a function's options give.
import { unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import type { FunctionManifest } from "../src/core/manifest.js";
import { azureBundle, azureEntry, azurePackageJson, hostJson, withHostJson } from "../src/providers/azure/deploy/entry.js";
import { azureSettings } from "../src/providers/azure/deploy/function-options.js";

const fn = (options: Partial<FunctionManifest["options"]> = {}): FunctionManifest => ({
  name: "f",
  module: "/app/m.mjs",
  isGenerator: false,
  options: {
    name: "f",
    timeoutMs: 300_000,
    minContainers: 0,
    maxContainers: undefined,
    bufferContainers: 0,
    scaledownWindowMs: 60_000,
    maxInputs: 1,
    memoryMb: undefined,
    env: {},
    web: undefined,
    providerOptions: undefined,
    retries: { maxRetries: 0, backoffCoefficient: 2, initialDelayMs: 1000, maxDelayMs: 60_000 },
    ...options,
  } as FunctionManifest["options"],
});

describe("the azure bundle's entry", () => {
  it("imports the app through appModule and registers faasade's functions", () => {
    const entry = azureEntry("/app/m.mjs");
    expect(entry).toContain('from "faasade/azure/runtime"');
    expect(entry).toContain('appModule(() => import("/app/m.mjs"))');
    expect(entry).toContain("registerFaasade()");
  });

  it("lists the Azure SDKs for the remote build, pinned, and keeps them and the host's module out of the bundle", () => {
    const pkg = JSON.parse(azurePackageJson("test/fixtures/app.mjs"));
    expect(pkg).toMatchObject({ type: "module", main: "index.mjs" });
    expect(pkg.dependencies).toEqual({
      "@azure/arm-appservice": "19.0.0",
      "@azure/functions": "4.16.5",
      "@azure/identity": "4.13.1",
      "@azure/storage-blob": "12.32.0",
      "@azure/storage-queue": "12.30.0",
    });
    const options = azureBundle("test/fixtures/app.mjs");
    expect(options.provided).toEqual(
      expect.arrayContaining(["@azure/functions", "@azure/functions-core", "@azure/storage-blob"]),
    );
    expect(options.platform).toEqual({ os: "linux", cpu: "x64" });
  });
});

describe("a function app's host.json", () => {
  it("has no route prefix, the timeout with its margin, and the queue trigger faasade's consumer expects", () => {
    const host = JSON.parse(hostJson(azureSettings(fn({ maxInputs: 50, timeoutMs: 3_600_000 }), { memoryMb: 2048 })));
    expect(host.version).toBe("2.0");
    expect(host.extensionBundle.id).toBe("Microsoft.Azure.Functions.ExtensionBundle");
    expect(host.functionTimeout).toBe("01:00:30");
    const day = JSON.parse(hostJson(azureSettings(fn({ timeoutMs: 86_400_000 }), { memoryMb: 2048 })));
    expect(day.functionTimeout).toBe("1.00:00:30");
    expect(host.extensions.http).toEqual({ routePrefix: "" });
    expect(host.extensions.queues).toEqual({
      batchSize: 32,
      newBatchThreshold: 0,
      maxDequeueCount: 5,
      visibilityTimeout: "00:00:00",
      messageEncoding: "base64",
    });
  });

  it("is added to the app's zip deterministically: the same settings give the same bytes, others another hash", async () => {
    const zip = zipSync({ "index.mjs": [new TextEncoder().encode("x"), { mtime: new Date("2020-01-01T00:00:00Z") }] });
    const code = { zip, hash: "h", installed: [] };
    const a = await withHostJson(code, azureSettings(fn(), { memoryMb: 2048 }));
    const b = await withHostJson(code, azureSettings(fn(), { memoryMb: 2048 }));
    const c = await withHostJson(code, azureSettings(fn({ maxInputs: 2 }), { memoryMb: 2048 }));
    expect(a.hash).toBe(b.hash);
    expect(Buffer.from(a.zip).equals(Buffer.from(b.zip))).toBe(true);
    expect(c.hash).not.toBe(a.hash);
    expect(Object.keys(unzipSync(a.zip)).sort()).toEqual(["host.json", "index.mjs"]);
  });
});

describe("a function's Azure settings", () => {
  it("rounds memory up to Flex's sizes, keeps maxContainers within 40–1000, and takes the web function's level", () => {
    expect(azureSettings(fn({ memoryMb: 256 }), { memoryMb: 2048 }).instanceMemoryMb).toBe(512);
    expect(azureSettings(fn(), { memoryMb: 2048 }).instanceMemoryMb).toBe(2048);
    expect(azureSettings(fn({ memoryMb: 2049 }), { memoryMb: 2048 }).instanceMemoryMb).toBe(4096);
    expect(azureSettings(fn({ maxContainers: 10 }), { memoryMb: 2048 }).maximumInstanceCount).toBe(40);
    expect(azureSettings(fn({ maxContainers: 5000 }), { memoryMb: 2048 }).maximumInstanceCount).toBe(1000);
    expect(azureSettings(fn(), { memoryMb: 2048 }).maximumInstanceCount).toBe(100);
    const web = (auth: boolean) => ({ method: "GET", auth });
    expect(azureSettings(fn({ web: web(false) }), { memoryMb: 2048 }).web).toBe("anonymous");
    expect(azureSettings(fn({ web: web(true) }), { memoryMb: 2048 }).web).toBe("function");
    expect(azureSettings(fn(), { memoryMb: 2048 }).web).toBeUndefined();
  });

  it("takes providerOptions.azure over the function's own options", () => {
    const s = azureSettings(
      fn({
        maxInputs: 8,
        providerOptions: {
          azure: {
            instanceMemoryMb: 512,
            httpConcurrency: 100,
            maximumInstanceCount: 250,
            queueBatchSize: 2,
            premiumSku: "EP2",
            environment: { A: "1" },
          },
        },
        env: { A: "0", B: "2" },
      }),
      { memoryMb: 2048 },
    );
    expect(s).toMatchObject({
      instanceMemoryMb: 512,
      httpConcurrency: 100,
      maximumInstanceCount: 250,
      queueBatchSize: 2,
      premiumSku: "EP2",
      environment: { A: "1", B: "2" },
    });
  });

  it("refuses bad values, quoting them", () => {
    const bad = (azure: unknown) => () => azureSettings(fn({ providerOptions: { azure } }), { memoryMb: 2048 });
    expect(bad("big")).toThrow(/providerOptions\.azure must be an object, got "big"/);
    expect(bad({ queueBatchSize: 33 })).toThrow(/queueBatchSize must be an integer from 1 to 32, got 33/);
    expect(bad({ premiumSku: "P1v3" })).toThrow(/premiumSku must be one of EP1, EP2, EP3, got "P1v3"/);
    expect(bad({ environment: { FAASADE_APP: "x" } })).toThrow(/"FAASADE_APP" is not a name a function may set/);
    expect(bad({ environment: { "my.setting": "x" } })).toThrow(/"my\.setting" is not a name/);
    expect(bad({ environment: { A: 1 } })).toThrow(/environment\.A must be a string, got 1/);
  });
});

describe("a function app reaching its storage account with its managed identity", () => {
  it("is given the account's name, never a key, and a system-assigned identity its deployment storage uses", async () => {
    const { deployContext } = await import("../src/providers/azure/deploy/context.js");
    const { appSettings } = await import("../src/providers/azure/deploy/settings.js");
    const { siteFields } = await import("../src/providers/azure/deploy/site.js");
    const ctx = deployContext({
      subscriptionId: "00000000-0000-0000-0000-000000000001",
      resourceGroup: "rg",
      region: "westeurope",
      storage: { accountName: "mystorage" },
      credential: { getToken: async () => null },
    });
    const ref = {
      prefix: "faasade",
      subscriptionId: "00000000-0000-0000-0000-000000000001",
      resourceGroup: "rg",
      app: "a",
      environment: "main",
    };
    const s = azureSettings(fn(), { memoryMb: 2048 });
    const settings = appSettings(ctx, ref, fn(), s);
    expect(settings).toMatchObject({
      FAASADE_AZURE_STORAGE__accountName: "mystorage",
      AzureWebJobsStorage__accountName: "mystorage",
    });
    expect(
      Object.keys(settings).filter((k) =>
        /^(AzureWebJobsStorage|FAASADE_AZURE_STORAGE|DEPLOYMENT_STORAGE_CONNECTION_STRING)$/.test(k),
      ),
    ).toEqual([]);
    const site = siteFields(ctx, {
      ref,
      fn: "f",
      site: "s",
      settings: s,
      deploymentContainer: "https://mystorage.blob.core.windows.net/s",
    });
    expect(site.identity).toEqual({ type: "SystemAssigned" });
    expect(site.functionAppConfig?.deployment?.storage?.authentication).toEqual({ type: "SystemAssignedIdentity" });
  });

  it("needs a region to deploy, named in the message", async () => {
    const { deployContext } = await import("../src/providers/azure/deploy/context.js");
    const saved = { ...process.env };
    for (const k of ["FAASADE_AZURE_REGION", "AZURE_LOCATION", "AZURE_REGION"]) delete process.env[k];
    try {
      expect(() =>
        deployContext({
          subscriptionId: "00000000-0000-0000-0000-000000000001",
          resourceGroup: "rg",
          storage: { accountName: "mystorage" },
        }),
      ).toThrow(/deploying needs a region: set FAASADE_AZURE_REGION/);
    } finally {
      Object.assign(process.env, saved);
    }
  });
});
