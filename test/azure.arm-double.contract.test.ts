// The ARM test double against the real @azure/arm-appservice and @azure/arm-storage clients (as deploy makes
// them, deploy/context.ts and clients.ts, trusting the loopback certificate): each operation faasade's deploy and
// client use, ARM's 404 body for a missing site, a site PUT finished by a poll, the fault hooks, and the
// Flex publish endpoint on the SCM host a site reports, whose status is read from the body.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AzureClients, azureCall, azureClients } from "../src/providers/azure/clients.js";
import { type AzureDeployContext, deployContext } from "../src/providers/azure/deploy/context.js";
import { type ArmDouble, type ArmSite, loopbackCredential, startArmDouble } from "../src/testing/azure/arm-double.js";
import { loopbackTls } from "../src/testing/azure/loopback-tls.js";
import { NotFoundError, ProviderError } from "../src/core/errors.js";

const subscriptionId = "00000000-0000-0000-0000-000000000001";
const group = "rg-test";
const storage = { connectionString: "UseDevelopmentStorage=true" };
let arm: ArmDouble;
let ctx: AzureDeployContext;
let clients: AzureClients;
const seen: ArmSite[] = [];

beforeAll(async () => {
  arm = await startArmDouble({ onSite: (site) => void seen.push(structuredClone(site)) });
  const options = { subscriptionId, resourceGroup: group, storage, credential: loopbackCredential, endpoints: { arm: arm.url } };
  ctx = deployContext({ ...options, ca: loopbackTls.cert }, false);
  clients = ctx.sdk;
});
afterAll(() => arm?.close());

const planId = (name: string) =>
  `/subscriptions/${subscriptionId}/resourceGroups/${group}/providers/Microsoft.Web/serverfarms/${name}`;

async function makeSite(name: string, extra: Record<string, unknown> = {}) {
  const web = await clients.web();
  await web.appServicePlans.createOrUpdate(group, name, {
    location: "westeurope",
    kind: "functionapp",
    sku: { name: "FC1", tier: "FlexConsumption" },
    reserved: true,
  });
  return web.webApps.createOrUpdate(group, name, {
    location: "westeurope",
    kind: "functionapp,linux",
    serverFarmId: planId(name),
    tags: { "faasade-app": "demo" },
    functionAppConfig: {
      runtime: { name: "node", version: "22" },
      scaleAndConcurrency: { maximumInstanceCount: 100, instanceMemoryMB: 2048 },
    },
    ...extra,
  });
}

describe("the ARM double with the real App Service client", () => {
  it("makes a plan and a site, reads them back, and lists the group's sites", async () => {
    const web = await clients.web();
    const site = await makeSite("site-one");
    expect(site.defaultHostName).toMatch(/^site-one-[0-9a-f]{16}\.westeurope-01\.azurewebsites\.net$/);
    expect(site.functionAppConfig?.runtime).toEqual({ name: "node", version: "22" });
    const plan = await web.appServicePlans.get(group, "site-one");
    expect(plan.sku).toMatchObject({ name: "FC1", tier: "FlexConsumption" });
    expect(plan.reserved).toBe(true);
    const read = await web.webApps.get(group, "site-one");
    expect(read.tags).toEqual({ "faasade-app": "demo" });
    expect(read.hostNameSslStates?.find((h) => h.hostType === "Repository")?.name).toBe(`127.0.0.1:${arm.port}/scm/site-one`);
    const names: string[] = [];
    for await (const s of web.webApps.listByResourceGroup(group)) names.push(String(s.name));
    expect(names).toContain("site-one");
  });

  it("finishes a site PUT that answers InProgress through a poll", async () => {
    const polled = await startArmDouble({ lro: "poll" });
    try {
      const web = await azureClients({
        subscriptionId,
        storage,
        credential: loopbackCredential,
        endpoints: { arm: polled.url },
        ca: polled.ca,
      }).web();
      await web.appServicePlans.createOrUpdate(group, "p", { location: "westeurope", sku: { name: "FC1" } });
      const site = await web.webApps.createOrUpdate(
        group,
        "p",
        { location: "westeurope", serverFarmId: planId("p") },
        { updateIntervalInMs: 10 },
      );
      // The site model has no provisioningState: the poller read it from the raw body, then polled.
      expect(site.state).toBe("Running");
      expect(polled.count("webApps.createOrUpdate")).toBe(1);
      expect(polled.count("webApps.get")).toBeGreaterThanOrEqual(1);
      expect(polled.site("p")?.resource.properties).toMatchObject({ provisioningState: "Succeeded" });
    } finally {
      await polled.close();
    }
  });

  it("answers a missing site with ARM's 404 body, a NotFoundError through azureCall", async () => {
    const web = await clients.web();
    const err = await azureCall("get site", () => web.webApps.get(group, "no-such-site")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain("ResourceNotFound");
    expect(String((err as Error).message)).toContain("no-such-site");
  });

  it("refuses a site on a plan that does not exist", async () => {
    const web = await clients.web();
    const err = await azureCall("create site", () =>
      web.webApps.createOrUpdate(group, "orphan", { location: "westeurope", serverFarmId: planId("none") }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
  });

  it("keeps app settings, lists them, and tells onSite when they change", async () => {
    const web = await clients.web();
    await makeSite("site-settings");
    const before = seen.length;
    await web.webApps.updateApplicationSettings(group, "site-settings", { properties: { FAASADE_APP: "demo", A: "1" } });
    const listed = await web.webApps.listApplicationSettings(group, "site-settings");
    expect(listed.properties).toEqual({ FAASADE_APP: "demo", A: "1" });
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)?.settings).toEqual({ FAASADE_APP: "demo", A: "1" });
    // The same settings again: nothing a host stand-in follows changed.
    await web.webApps.updateApplicationSettings(group, "site-settings", { properties: { FAASADE_APP: "demo", A: "1" } });
    expect(seen.length).toBe(before + 1);
  });

  it("gives each site a stable host key of its own", async () => {
    const web = await clients.web();
    await makeSite("site-keys-a");
    await makeSite("site-keys-b");
    const a1 = await web.webApps.listHostKeys(group, "site-keys-a");
    const a2 = await web.webApps.listHostKeys(group, "site-keys-a");
    const b = await web.webApps.listHostKeys(group, "site-keys-b");
    expect(a1.functionKeys?.default).toMatch(/^[\w-]{20,}$/);
    expect(a2.functionKeys?.default).toBe(a1.functionKeys?.default);
    expect(b.functionKeys?.default).not.toBe(a1.functionKeys?.default);
    expect(arm.site("site-keys-a")?.hostKey).toBe(a1.functionKeys?.default);
  });

  it("changes always-ready instances by a read and a PUT, keeping the rest of the site", async () => {
    // SDK 19.0.0's PATCH (webApps.update) carries no functionAppConfig (sitePatchResourceSerializer
    // drops it): always-ready instances change through createOrUpdate with the site as read.
    const web = await clients.web();
    await makeSite("site-warm");
    await web.webApps.updateApplicationSettings(group, "site-warm", { properties: { KEPT: "yes" } });
    const key = arm.site("site-warm")?.hostKey;
    const before = seen.length;
    const warm = async (n: number) => {
      const site = await web.webApps.get(group, "site-warm");
      const scale = { ...site.functionAppConfig?.scaleAndConcurrency, alwaysReady: [{ name: "function:f", instanceCount: n }] };
      await web.webApps.createOrUpdate(group, "site-warm", {
        ...site,
        functionAppConfig: { ...site.functionAppConfig, scaleAndConcurrency: scale },
      });
    };
    await warm(2);
    let site = await web.webApps.get(group, "site-warm");
    expect(site.functionAppConfig?.scaleAndConcurrency?.alwaysReady).toEqual([{ name: "function:f", instanceCount: 2 }]);
    expect(site.functionAppConfig?.scaleAndConcurrency?.instanceMemoryMB).toBe(2048);
    expect(seen.at(-1)?.resource.properties).toMatchObject({
      functionAppConfig: { scaleAndConcurrency: { alwaysReady: [{ name: "function:f", instanceCount: 2 }] } },
    });
    await warm(0);
    site = await web.webApps.get(group, "site-warm");
    expect(site.functionAppConfig?.scaleAndConcurrency?.alwaysReady).toEqual([{ name: "function:f", instanceCount: 0 }]);
    expect(seen.length).toBe(before + 2);
    expect(site.tags).toEqual({ "faasade-app": "demo" });
    expect(arm.site("site-warm")?.hostKey).toBe(key);
    expect(arm.site("site-warm")?.settings).toEqual({ KEPT: "yes" });
  });

  it("merges a PATCH's fields into the site (siteConfig; the SDK's patch carries no tags)", async () => {
    const web = await clients.web();
    await makeSite("site-patch");
    await web.webApps.update(group, "site-patch", { siteConfig: { minimumElasticInstanceCount: 2 } });
    const site = await web.webApps.get(group, "site-patch");
    expect(site.siteConfig?.minimumElasticInstanceCount).toBe(2);
    expect(site.tags).toEqual({ "faasade-app": "demo" });
    expect(site.functionAppConfig?.runtime).toEqual({ name: "node", version: "22" });
  });

  it("keeps a Premium site's minimum elastic instances in its web config", async () => {
    const web = await clients.web();
    await makeSite("site-premium");
    await web.webApps.updateConfiguration(group, "site-premium", { minimumElasticInstanceCount: 3 });
    const config = await web.webApps.getConfiguration(group, "site-premium");
    expect(config.minimumElasticInstanceCount).toBe(3);
  });

  it("deletes a site, then its plan; a plan still hosting a site is refused", async () => {
    const web = await clients.web();
    await makeSite("site-gone");
    await expect(web.appServicePlans.delete(group, "site-gone")).rejects.toThrow(/still hosts a site/);
    await web.webApps.delete(group, "site-gone");
    await web.appServicePlans.delete(group, "site-gone");
    expect(arm.site("site-gone")).toBeUndefined();
    expect(arm.plans.has("site-gone")).toBe(false);
    // Deleting again is not an error (ARM answers 204 for what is gone).
    await web.webApps.delete(group, "site-gone");
  });

  it("fails the next requests of one operation with the status asked, counted against it", async () => {
    const web = await clients.web();
    await makeSite("site-fault");
    const before = arm.count("webApps.get");
    // A 503 is retried by the SDK's own policy: the double saw (and counted) both requests.
    arm.failNext("webApps.get", 1, 503);
    await expect(web.webApps.get(group, "site-fault")).resolves.toMatchObject({ name: "site-fault" });
    expect(arm.count("webApps.get")).toBe(before + 2);
    arm.failNext("webApps.listHostKeys", 1, 400);
    await expect(azureCall("host keys", () => web.webApps.listHostKeys(group, "site-fault"))).rejects.toBeInstanceOf(
      ProviderError,
    );
    await expect(web.webApps.listHostKeys(group, "site-fault")).resolves.toMatchObject({});
  });
});

describe("the ARM double with the real Storage management client", () => {
  it("puts and reads the account's default management policy; a missing one is a 404", async () => {
    const accounts = await ctx.storageAccounts();
    await expect(azureCall("get policy", () => accounts.managementPolicies.get(group, "acct", "default"))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const rule = {
      name: "faasade-main-demo",
      enabled: true,
      type: "Lifecycle" as const,
      definition: {
        filters: { blobTypes: ["blockBlob"], prefixMatch: ["faasade-main-demo/"] },
        actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 2 } } },
      },
    };
    await accounts.managementPolicies.createOrUpdate(group, "acct", "default", { policy: { rules: [rule] } });
    const read = await accounts.managementPolicies.get(group, "acct", "default");
    expect(read.policy?.rules).toEqual([rule]);
    await accounts.managementPolicies.delete(group, "acct", "default");
    expect(arm.policies.has("acct")).toBe(false);
  });
});

describe("the Flex publish endpoint of a site's SCM host", () => {
  const zip = Buffer.concat([Buffer.from("PK\x03\x04"), Buffer.alloc(40)]);
  const publish = async (scm: string) => {
    const res = await fetchTls(`https://${scm}/api/publish?RemoteBuild=false`, zip);
    return { status: res.status, location: res.headers.location, body: JSON.parse(res.body) as { status: number } };
  };

  it("takes a zip, answers 202 with where its status is, and keeps the package", async () => {
    const site = await makeSite("site-pub");
    const scm = String(site.hostNameSslStates?.find((h) => h.hostType === "Repository")?.name);
    const started = await publish(scm);
    expect(started.status).toBe(202);
    const status = JSON.parse((await fetchTls(String(started.location))).body) as { status: number; complete: boolean };
    expect(status).toMatchObject({ status: 4, complete: true });
    expect(arm.site("site-pub")?.packages).toHaveLength(1);
    expect(arm.count("scm.publish")).toBeGreaterThanOrEqual(1);
  });

  it("reports a failed deployment with a 200 answer whose body says Failed", async () => {
    const site = await makeSite("site-pub-fail");
    const scm = String(site.hostNameSslStates?.find((h) => h.hostType === "Repository")?.name);
    arm.failDeployments(1, "the worker could not start");
    const started = await publish(scm);
    const res = await fetchTls(String(started.location));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 3, complete: true, status_text: "the worker could not start" });
    expect(arm.site("site-pub-fail")?.packages).toHaveLength(0);
  });
});

/** A request over TLS trusting the loopback certificate (fetch cannot take a CA). */
async function fetchTls(url: string, body?: Buffer): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: body === undefined ? "GET" : "POST",
        ca: loopbackTls.cert,
        headers: { authorization: "Bearer t", ...(body === undefined ? {} : { "content-type": "application/zip" }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers as Record<string, string>,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
