// azure(): options checked up front, quoting the bad value; defaults from the environment; resource names
// that fit Azure's rules (Storage's single hyphens, global app names) and never collide; errors mapped.
import { afterEach, describe, expect, it, vi } from "vitest";
import { NotFoundError, ProviderError } from "../src/core/errors.js";
import { TransportError } from "../src/core/transport.js";
import { accountOf, azureError } from "../src/providers/azure/clients.js";
import { containerName, poisonQueueName, queueName, siteName } from "../src/providers/azure/names.js";
import { resolveAzureOptions } from "../src/providers/azure/options.js";

afterEach(() => vi.unstubAllEnvs());
const SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const base = { subscriptionId: SUB, resourceGroup: "my-group", storage: { connectionString: "UseDevelopmentStorage=true" } };
const clearEnv = () => {
  for (const v of [
    "AZURE_SUBSCRIPTION_ID",
    "FAASADE_AZURE_RESOURCE_GROUP",
    "AZURE_RESOURCE_GROUP",
    "FAASADE_AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_CONNECTION_STRING",
    "FAASADE_AZURE_STORAGE",
    "FAASADE_AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_ACCOUNT",
    "FAASADE_AZURE_STORAGE__accountName",
    "FAASADE_AZURE_PLAN",
    "FAASADE_AZURE_PREFIX",
    "FAASADE_AZURE_RETENTION_MS",
  ])
    vi.stubEnv(v, "");
};

describe("azure options", () => {
  it("takes the subscription, group and storage from the environment, else says how to set them", () => {
    clearEnv();
    expect(() => resolveAzureOptions({})).toThrow(/no subscription is set: set AZURE_SUBSCRIPTION_ID/);
    vi.stubEnv("AZURE_SUBSCRIPTION_ID", SUB);
    expect(() => resolveAzureOptions({})).toThrow(/no resource group is set: set FAASADE_AZURE_RESOURCE_GROUP/);
    vi.stubEnv("AZURE_RESOURCE_GROUP", "env-group");
    expect(() => resolveAzureOptions({})).toThrow(/no storage account is set: set FAASADE_AZURE_STORAGE_CONNECTION_STRING/);
    vi.stubEnv("FAASADE_AZURE_STORAGE__accountName", "appstorage");
    const resolved = resolveAzureOptions({});
    expect(resolved).toMatchObject({ subscriptionId: SUB, resourceGroup: "env-group", plan: "flex", prefix: "faasade" });
    expect(resolved.storage).toEqual({ accountName: "appstorage" });
    expect(resolved.retentionMs).toBe(7 * 24 * 3600 * 1000);
    // A deployed app's own setting (FAASADE_AZURE_STORAGE) is a connection string its calls reuse.
    vi.stubEnv("FAASADE_AZURE_STORAGE", "UseDevelopmentStorage=true");
    expect(resolveAzureOptions({}).storage).toEqual({ connectionString: "UseDevelopmentStorage=true" });
  });

  it.each([
    [{ subscriptionId: "my-sub" }, /subscriptionId must be a GUID .*got "my-sub"/],
    [{ resourceGroup: "bad group!" }, /resourceGroup must be "my-group" .*got "bad group!"/],
    [{ region: "West Europe" }, /region must be "westeurope" .*got "West Europe"/],
    [{ plan: "consumption" }, /plan must be one of flex, premium, got "consumption"/],
    [{ prefix: "Faasade-1" }, /prefix must be "faasade" .*got "Faasade-1"/],
    [{ retentionMs: 0 }, /retentionMs must be an integer ≥ 1, got 0/],
    [{ storage: { connectionString: "nothing=here" } }, /storage.connectionString must be a storage connection string/],
    [{ storage: { accountName: "Bad_Name" } }, /accountName must be "mystorage" .*got "Bad_Name"/],
    [{ storage: { account: "x" } }, /unknown option "account"/],
    [{ endpoints: { arm: "nope" } }, /endpoints.arm must be a URL .*got "nope"/],
    [{ endpoints: { blob: "http://127.0.0.1:1" } }, /endpoints has no service "blob"/],
    [{ regoin: "westeurope" }, /unknown option "regoin"/],
  ])("refuses %j", (bad, message) => {
    expect(() => resolveAzureOptions({ ...base, ...(bad as object) })).toThrow(message);
  });

  it("never quotes a connection string it refuses (it holds the account key)", () => {
    const secret = "DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net";
    const err = (() => {
      try {
        resolveAzureOptions({ ...base, storage: { connectionString: secret } });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/a string of \d+ characters without AccountName/);
    expect(err?.message).not.toContain("c2VjcmV0");
  });

  it("finds the account a connection string names", () => {
    expect(accountOf({ connectionString: "UseDevelopmentStorage=true" })).toBe("devstoreaccount1");
    expect(accountOf({ connectionString: "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=k" })).toBe("acct1");
    expect(accountOf({ accountName: "acct2" })).toBe("acct2");
  });
});

describe("azure names", () => {
  const ref = { prefix: "faasade", subscriptionId: SUB, resourceGroup: "g", app: "my-app", environment: "main" };
  const storageRule = /^[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$/;

  it("queues and containers keep Storage's rules (3–63 characters, single hyphens), poison queues included", () => {
    const names = [
      queueName(ref, "square"),
      queueName(ref, "My__Fn"),
      queueName(ref, "f".repeat(80)),
      containerName(ref),
      containerName({ ...ref, app: "A--b" }),
    ];
    for (const n of names) {
      expect(n).toMatch(storageRule);
      expect(n.length).toBeGreaterThanOrEqual(3);
      expect(n.length).toBeLessThanOrEqual(63);
    }
    expect(poisonQueueName(queueName(ref, "f".repeat(80))).length).toBeLessThanOrEqual(63);
    expect(queueName(ref, "square")).toBe("faasade-main-my-app-square");
    expect(new Set([queueName(ref, "square"), queueName(ref, "Square"), queueName(ref, "square_")]).size).toBe(3);
  });

  it("function app names are at most 60 characters and differ between subscriptions and groups (they are global)", () => {
    const site = siteName(ref, "square");
    expect(site).toMatch(/^faasade-main-my-app-square-[0-9a-f]{6}$/);
    expect(siteName(ref, "f".repeat(100)).length).toBeLessThanOrEqual(60);
    expect(siteName({ ...ref, resourceGroup: "other" }, "square")).not.toBe(site);
  });
});

describe("azure errors", () => {
  const rest = (statusCode: number | undefined, code: string, message = "said") =>
    Object.assign(new Error(message), { statusCode, code });

  it("maps a 404 to NotFoundError, 429/5xx and broken connections to TransportError, 403 to a ProviderError", () => {
    expect(azureError("get x", rest(404, "BlobNotFound"))).toBeInstanceOf(NotFoundError);
    expect(azureError("get x", rest(503, "ServerBusy"))).toBeInstanceOf(TransportError);
    expect(azureError("get x", rest(429, "TooManyRequests"))).toBeInstanceOf(TransportError);
    expect(azureError("get x", rest(undefined, "REQUEST_SEND_ERROR"))).toBeInstanceOf(TransportError);
    const refused = azureError("list the host keys of function app a", rest(403, "AuthorizationFailed"));
    expect(refused).toBeInstanceOf(ProviderError);
    expect(refused.message).toMatch(
      /azure list the host keys of function app a was refused: the credentials lack a role .*AuthorizationFailed/,
    );
    expect(azureError("put y", rest(400, "InvalidInput"))).toBeInstanceOf(ProviderError);
  });
});
