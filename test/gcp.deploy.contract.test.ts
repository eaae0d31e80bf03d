// Deploying whole apps on Google Cloud against the test doubles of the Functions admin API,
// Cloud Tasks and Cloud Storage, through the real clients: what a first deploy makes, that a
// redeploy of the same code sends only reads, a code update, a minContainers change as one
// update mask, a removed function going with its queue, a public web function's invoker
// binding and its removal, destroy, and a bad providerOptions.gcp refused before any request.
import { App } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bundle } from "../dist/src/cloud/bundle.js";
import { type AppManifest, manifestOf } from "../dist/src/core/manifest.js";
import type { GcpDeployOptions } from "../src/providers/gcp/deploy/context.js";
import { deployApps, destroyGcp } from "../src/providers/gcp/deploy/resources.js";
import { gcpDeployer } from "../src/providers/gcp/deployer.js";
import { bucketName, functionId } from "../src/providers/gcp/names.js";
import { type FunctionsDouble, startFunctionsDouble } from "../src/testing/gcp/functions-double.js";
import { loopbackAuth } from "../src/testing/gcp/loopback-auth.js";
import { type StorageDouble, startStorageDouble } from "../src/testing/gcp/storage-double.js";
import { type TasksDouble, startTasksDouble } from "../src/testing/gcp/tasks-double.js";

process.env.METADATA_SERVER_DETECTION = "none";
const project = "my-project";
const region = "us-central1";
const location = `projects/${project}/locations/${region}`;
let functions: FunctionsDouble;
let tasks: TasksDouble;
let storage: StorageDouble;
let options: GcpDeployOptions;

beforeAll(async () => {
  [functions, tasks, storage] = await Promise.all([startFunctionsDouble(), startTasksDouble(), startStorageDouble({ project })]);
  options = {
    project,
    region,
    retentionMs: 36 * 3600 * 1000,
    authClient: loopbackAuth,
    endpoints: { functions: functions.url, tasks: tasks.url, storage: storage.url, run: functions.url },
  };
});
afterAll(() => Promise.all([functions?.close(), tasks?.close(), storage?.close()]));

const code = (text: string): Bundle => ({ zip: new TextEncoder().encode(text), hash: text.padEnd(64, "0"), installed: [] });
const ref = (app: string) => ({ prefix: "faasade", project, region, app, environment: "main" });
const fnPath = (app: string, fn: string) => `${location}/functions/${functionId(ref(app), fn)}`;
const queuePath = (app: string, fn: string) => `${location}/queues/${functionId(ref(app), fn)}`;

type Defined = [name: string, options: object];
function manifest(name: string, defined: Defined[]): AppManifest {
  const app = new App(name);
  for (const [fn, opts] of defined) {
    // A function named as asked (faasade takes a function's own name).
    const f = { [fn]: (x: number) => x }[fn] as (x: number) => number;
    app.function(f, opts as never);
  }
  return manifestOf(app as never);
}

/** Requests to the three APIs since the last call: admin-API lines (operations polls left out), Tasks RPCs, Storage operations. */
function requestsSince(mark: { functions: number; tasks: Record<string, number> }) {
  const admin = functions.requests.slice(mark.functions).filter((r) => !r.includes("/operations/"));
  const rpcs = Object.fromEntries(
    Object.entries(tasks.calls)
      .map(([rpc, n]) => [rpc, n - (mark.tasks[rpc] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
  return { admin, rpcs, storage: storage.takeCounts() };
}
const markNow = () => {
  storage.takeCounts();
  return { functions: functions.requests.length, tasks: { ...tasks.calls } };
};
const isRead = (line: string) => line.startsWith("GET ") || line.includes(":getIamPolicy");

describe("deploying apps on gcp (contract, test doubles with the real clients)", { timeout: 60_000 }, () => {
  const shop = (minContainers: number, extra: Defined[] = []) =>
    manifest("shop", [["resize", { maxInputs: 4, maxContainers: 3, minContainers }], ["report", {}], ...extra]);

  it("creates the bucket, the manifest, and a queue and a function per function", async () => {
    const mark = markNow();
    const deployed = await deployApps([shop(2)], options, async () => code("v1"));
    expect(deployed.map((d) => [d.name, d.changed])).toEqual([
      ["resize", "created"],
      ["report", "created"],
    ]);
    const seen = requestsSince(mark);
    expect(seen.rpcs).toEqual({ GetQueue: 2, CreateQueue: 2 });
    expect(seen.storage["buckets.insert"]).toBe(1);
    expect(seen.storage["objects.insert"]).toBe(1);
    expect(seen.admin.filter((r) => r === `POST /v2/${location}/functions`)).toHaveLength(2);

    const bucket = bucketName(ref("shop"));
    const [meta] = await (await storageClient()).bucket(bucket).getMetadata();
    expect(meta.location).toBe(region);
    expect(meta.iamConfiguration?.uniformBucketLevelAccess?.enabled).toBe(true);
    expect(meta.labels).toEqual({ "faasade-app": "shop", "faasade-env": "main" });
    // 36 h of retention: objects are deleted after 2 days, the manifest never.
    expect(meta.lifecycle?.rule).toEqual([
      {
        action: { type: "Delete" },
        condition: expect.objectContaining({ age: 2, matchesPrefix: expect.arrayContaining(["results/", "calls/"]) }),
      },
    ]);
    expect(meta.lifecycle?.rule?.[0]?.condition?.matchesPrefix).not.toContain("manifest.json");
    const stored = JSON.parse(String(storage.object(bucket, "manifest.json")?.bytes)) as AppManifest;
    expect(stored.functions.map((f) => f.name)).toEqual(["resize", "report"]);

    const resize = functions.functions.get(fnPath("shop", "resize"));
    expect(resize?.serviceConfig).toMatchObject({ minInstanceCount: 2, maxInstanceCount: 3, maxInstanceRequestConcurrency: 4 });
    expect(resize?.serviceConfig?.environmentVariables).toMatchObject({
      FAASADE_PROVIDER: "gcp",
      FAASADE_APP: "shop",
      FAASADE_ENVIRONMENT: "main",
      FAASADE_FUNCTION: "resize",
      GOOGLE_CLOUD_PROJECT: project,
      FAASADE_GCP_REGION: region,
      FAASADE_GCP_PREFIX: "faasade",
    });
    const queue = (await tasksClient()).getQueue({ name: queuePath("shop", "resize") });
    const [q] = await queue;
    // 3 instances × 4 inputs each, redelivered as src/providers/gcp/deploy/queue.ts says; report: Google's 100 instances × 1.
    expect(q.rateLimits?.maxConcurrentDispatches).toBe(12);
    expect(q.retryConfig?.maxAttempts).toBe(100);
    const [r] = await (await tasksClient()).getQueue({ name: queuePath("shop", "report") });
    expect(r.rateLimits?.maxConcurrentDispatches).toBe(100);
  });

  it("a redeploy of the same code and options sends only reads", async () => {
    const mark = markNow();
    const deployed = await deployApps([shop(2)], options, async () => code("v1"));
    expect(deployed.map((d) => d.changed)).toEqual([[], []]);
    const seen = requestsSince(mark);
    expect(seen.admin.length).toBeGreaterThan(0);
    expect(seen.admin.filter((r) => !isRead(r))).toEqual([]);
    expect(seen.rpcs).toEqual({ GetQueue: 2 });
    expect(Object.keys(seen.storage).sort()).toEqual(["buckets.get", "objects.download"]);
  });

  it("minContainers 2 → 0 is one update under a mask naming only it", async () => {
    const mark = markNow();
    const deployed = await deployApps([shop(0)], options, async () => code("v1"));
    expect(deployed.map((d) => d.changed)).toEqual([["service_config.min_instance_count"], []]);
    const seen = requestsSince(mark);
    expect(seen.admin.filter((r) => !isRead(r))).toEqual([`PATCH /v2/${fnPath("shop", "resize")}`]);
    expect(functions.functions.get(fnPath("shop", "resize"))?.serviceConfig?.minInstanceCount).toBe(0);
    // The manifest changed (its minContainers), so it is written again; nothing else in Storage.
    expect(seen.storage["objects.insert"]).toBe(1);
    expect(seen.rpcs).toEqual({ GetQueue: 2 });
  });

  it("new code is uploaded and every function updated with its hash", async () => {
    const mark = markNow();
    const deployed = await deployApps([shop(0)], options, async () => code("v2-new"));
    for (const d of deployed) expect(d.changed).toEqual(expect.arrayContaining(["build_config.source", "labels"]));
    const seen = requestsSince(mark);
    expect(seen.admin.filter((r) => r.endsWith(":generateUploadUrl"))).toHaveLength(2);
    expect(functions.functions.get(fnPath("shop", "report"))?.labels?.["faasade-code"]).toBe("v2-new".padEnd(63, "0"));
    expect(seen.rpcs).toEqual({ GetQueue: 2 });
  });

  it("a changed maxContainers updates the queue under a mask naming only its limit", async () => {
    const mark = markNow();
    const deployed = await deployApps(
      [
        manifest("shop", [
          ["resize", { maxInputs: 4, maxContainers: 5 }],
          ["report", {}],
        ]),
      ],
      options,
      async () => code("v2-new"),
    );
    expect(deployed[0]?.changed).toEqual(["service_config.max_instance_count"]);
    expect(requestsSince(mark).rpcs).toEqual({ GetQueue: 2, UpdateQueue: 1 });
    const [q] = await (await tasksClient()).getQueue({ name: queuePath("shop", "resize") });
    expect(q.rateLimits?.maxConcurrentDispatches).toBe(20);
    expect(q.retryConfig?.maxAttempts).toBe(100);
  });

  it("with a service account given, every function's service admits it as invoker (Cloud Tasks signs as it), once", async () => {
    const account = "runner@my-project.iam.gserviceaccount.com";
    const app = manifest("crew", [["task", {}]]);
    await deployApps([app], { ...options, serviceAccount: account }, async () => code("v1-crew"));
    const service = fnPath("crew", "task").replace("/functions/", "/services/");
    const invoker = functions.policies.get(service)?.bindings?.find((b) => b.role === "roles/run.invoker");
    expect(invoker?.members).toEqual([`serviceAccount:${account}`]);
    const mark = markNow();
    await deployApps([app], { ...options, serviceAccount: account }, async () => code("v1-crew"));
    expect(requestsSince(mark).admin.filter((r) => !isRead(r))).toEqual([]);
    await destroyGcp("crew", "main", options);
    expect(functions.policies.has(service)).toBe(false);
  });

  it("a public web function gets an allUsers run.invoker binding on its Cloud Run service, removed when web.auth becomes true", async () => {
    const withHook = (auth: boolean) =>
      manifest("shop", [
        ["resize", { maxInputs: 4, maxContainers: 5 }],
        ["report", {}],
        ["hook", { web: { method: "POST", auth } }],
      ]);
    const first = await deployApps([withHook(false)], options, async () => code("v2-new"));
    expect(first.find((d) => d.name === "hook")?.webUrl).toMatch(/^https:\/\/.*hook/);
    expect(first.find((d) => d.name === "resize")?.webUrl).toBeUndefined();
    const invokers = () =>
      functions.policies
        .get(fnPath("shop", "hook").replace("/functions/", "/services/"))
        ?.bindings?.filter((b) => b.role === "roles/run.invoker")
        .flatMap((b) => b.members) ?? [];
    expect(invokers()).toEqual(["allUsers"]);
    let mark = markNow();
    await deployApps([withHook(false)], options, async () => code("v2-new"));
    expect(requestsSince(mark).admin.filter((r) => !isRead(r))).toEqual([]);
    mark = markNow();
    await deployApps([withHook(true)], options, async () => code("v2-new"));
    expect(invokers()).toEqual([]);
    expect(requestsSince(mark).admin.filter((r) => r.includes(":setIamPolicy"))).toHaveLength(1);
  });

  it("a function the app no longer has goes with its queue", async () => {
    expect(functions.functions.has(fnPath("shop", "hook"))).toBe(true);
    const mark = markNow();
    await deployApps(
      [
        manifest("shop", [
          ["resize", { maxInputs: 4, maxContainers: 5 }],
          ["report", {}],
        ]),
      ],
      options,
      async () => code("v2-new"),
    );
    expect(functions.functions.has(fnPath("shop", "hook"))).toBe(false);
    expect(requestsSince(mark).rpcs).toMatchObject({ DeleteQueue: 1 });
    await expect((await tasksClient()).getQueue({ name: queuePath("shop", "hook") })).rejects.toMatchObject({ code: 5 });
    expect(functions.functions.has(fnPath("shop", "resize"))).toBe(true);
  });

  it("lists the deployed apps from the buckets' manifests", async () => {
    await deployApps([manifest("other", [["ping", {}]])], options, async () => code("v1"));
    // Another prefix that begins with this one: its apps are not this prefix's.
    await deployApps([manifest("stranger", [["ping", {}]])], { ...options, prefix: "faasade-dev" }, async () => code("v1"));
    expect((await gcpDeployer({ ...options, prefix: "faasade-dev" }).list()).map((a) => a.app)).toEqual(["stranger"]);
    const apps = await gcpDeployer(options).list();
    expect(apps.map((a) => a.app).sort()).toEqual(["other", "shop"]);
    expect(apps.find((a) => a.app === "shop")?.functions.map((f) => f.name)).toEqual(["resize", "report"]);
  });

  it("destroy removes every function, queue and the bucket; a second destroy is NotFoundError", async () => {
    // Something a spawn left in the bucket: destroy empties it first.
    await (await storageClient())
      .bucket(bucketName(ref("shop")))
      .file("results/abc.json")
      .save("{}", { resumable: false });
    await destroyGcp("shop", "main", options);
    for (const fn of ["resize", "report"]) {
      expect(functions.functions.has(fnPath("shop", fn))).toBe(false);
      await expect((await tasksClient()).getQueue({ name: queuePath("shop", fn) })).rejects.toMatchObject({ code: 5 });
    }
    const [exists] = await (await storageClient()).bucket(bucketName(ref("shop"))).exists();
    expect(exists).toBe(false);
    expect(functions.functions.has(fnPath("other", "ping"))).toBe(true);
    await expect(destroyGcp("shop", "main", options)).rejects.toMatchObject({ name: "NotFoundError" });
    expect((await gcpDeployer(options).list()).map((a) => a.app)).toEqual(["other"]);
  });

  it("a bad providerOptions.gcp fails before any request", async () => {
    const mark = markNow();
    let bundled = false;
    const bad = manifest("broken", [
      ["fine", {}],
      ["wrong", { providerOptions: { gcp: { ingress: "EVERYWHERE" } } }],
    ]);
    await expect(
      deployApps([bad], options, async () => {
        bundled = true;
        return code("v1");
      }),
    ).rejects.toThrow(/providerOptions\.gcp\.ingress.*"EVERYWHERE"/);
    expect(bundled).toBe(false);
    const seen = requestsSince(mark);
    expect(seen).toEqual({ admin: [], rpcs: {}, storage: {} });
  });
});

async function tasksClient() {
  const { gcpClients } = await import("../src/providers/gcp/clients.js");
  return gcpClients({ project, endpoints: { tasks: tasks.url }, authClient: loopbackAuth }).tasks();
}
async function storageClient() {
  const { gcpClients } = await import("../src/providers/gcp/clients.js");
  return gcpClients({ project, endpoints: { storage: storage.url } }).storage();
}

describe("deploying into a shared bucket (contract)", { timeout: 60_000 }, () => {
  it("makes no bucket, keeps the manifest under faasade/<env>/<app>/, and destroy leaves the bucket", async () => {
    const shared = { ...options, bucket: "team-shared" };
    const client = await storageClient();
    await client.createBucket("team-shared");
    await client.bucket("team-shared").file("theirs.txt").save("keep me", { resumable: false });
    storage.takeCounts();
    await deployApps([manifest("billing", [["charge", {}]])], shared, async () => code("v1"));
    const counts = storage.takeCounts();
    expect(counts["buckets.insert"]).toBeUndefined();
    expect(counts["buckets.patch"]).toBeUndefined();
    expect(storage.object("team-shared", "faasade/main/billing/manifest.json")).toBeDefined();
    const env = functions.functions.get(fnPath("billing", "charge"))?.serviceConfig?.environmentVariables;
    expect(env).toMatchObject({ FAASADE_GCP_BUCKET: "team-shared" });
    expect((await gcpDeployer(shared).list()).map((a) => a.app)).toEqual(["billing"]);
    await destroyGcp("billing", "main", shared);
    expect(functions.functions.has(fnPath("billing", "charge"))).toBe(false);
    expect(storage.object("team-shared", "faasade/main/billing/manifest.json")).toBeUndefined();
    expect(String(storage.object("team-shared", "theirs.txt")?.bytes)).toBe("keep me");
  });

  it("a deploy cut by an unavailable Functions API is a TransportError, and the next deploy finishes it", async () => {
    const app = manifest("flaky", [
      ["one", {}],
      ["two", {}],
    ]);
    // Once "one" is being created, the API answers 503 to everything (its operation's polls included).
    const failing = deployApps([app], options, async () => code("v1")).catch((err: Error) => err);
    const started = Date.now();
    while (!functions.functions.has(fnPath("flaky", "one")) && Date.now() - started < 20_000) {
      await new Promise((r) => setTimeout(r, 5));
    }
    functions.failNext(1_000);
    const err = await failing;
    functions.failNext(0);
    expect(err).toMatchObject({ name: "TransportError" });
    expect(functions.functions.has(fnPath("flaky", "two"))).toBe(false);
    const done = await deployApps([app], options, async () => code("v1"));
    expect(done.map((d) => [d.name, d.changed])).toEqual([
      ["one", []],
      ["two", "created"],
    ]);
  });

  it("gcpDeployer bundles the module for real: a second deploy of the same code changes nothing", async () => {
    const { app } = await import("./fixtures/gcp-app.mjs");
    const apps = [manifestOf(app as never)];
    const deployer = gcpDeployer(options);
    const first = await deployer.deploy("test/fixtures/gcp-app.mjs", apps);
    const fns = first[0]?.functions ?? [];
    expect(fns.map((f) => f.name)).toEqual(apps[0]?.functions.map((f) => f.name));
    expect(fns.find((f) => f.name === "square")?.resource).toBe(fnPath("gcp-app", "square"));
    expect(fns.find((f) => f.name === "page")?.webUrl).toMatch(/^https:\/\//);
    expect(fns.find((f) => f.name === "square")?.webUrl).toBeUndefined();
    expect(functions.functions.get(fnPath("gcp-app", "square"))?.buildConfig?.entryPoint).toBe("faasade");
    const mark = markNow();
    await deployer.deploy("test/fixtures/gcp-app.mjs", apps);
    const seen = requestsSince(mark);
    expect(seen.admin.filter((r) => !isRead(r))).toEqual([]);
    expect(Object.keys(seen.rpcs)).toEqual(["GetQueue"]);
    expect(Object.keys(seen.storage).sort()).toEqual(["buckets.get", "objects.download"]);
  });
});
