// The queue and bucket steps of the gcp deploy on their own, against the Cloud Tasks and Cloud
// Storage test doubles through the real clients: created once; a second run is one read; a
// changed setting is one update naming only it (an update mask for the queue, a patch of the
// lifecycle for the bucket); a shared bucket is only checked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketLabels, ensureBucket, lifecycleRules } from "../src/providers/gcp/deploy/bucket.js";
import { type GcpDeployContext, deployContext } from "../src/providers/gcp/deploy/context.js";
import { REDELIVERY, ensureQueue, queueLimits, removeQueue } from "../src/providers/gcp/deploy/queue.js";
import { bucketName } from "../src/providers/gcp/names.js";
import { loopbackAuth } from "../src/testing/gcp/loopback-auth.js";
import { type StorageDouble, startStorageDouble } from "../src/testing/gcp/storage-double.js";
import { type TasksDouble, startTasksDouble } from "../src/testing/gcp/tasks-double.js";

process.env.METADATA_SERVER_DETECTION = "none";
const DAY = 24 * 3600 * 1000;
let tasks: TasksDouble;
let storage: StorageDouble;
const ref = { prefix: "faasade", project: "my-project", region: "europe-west1", app: "shop", environment: "main" };
const context = (o: { retentionMs?: number; bucket?: string } = {}): GcpDeployContext =>
  deployContext({
    project: ref.project,
    region: ref.region,
    authClient: loopbackAuth,
    endpoints: { tasks: tasks.url, storage: storage.url },
    ...o,
  });
const delta = (before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(tasks.calls)
      .map(([k, n]) => [k, n - (before[k] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );

beforeAll(async () => {
  [tasks, storage] = await Promise.all([startTasksDouble(), startStorageDouble({ project: ref.project })]);
});
afterAll(() => Promise.all([tasks?.close(), storage?.close()]));

describe("a function's Cloud Tasks queue (contract)", () => {
  const queue = "projects/my-project/locations/europe-west1/queues/faasade-main-shop-resize";

  it("limits: instances × inputs, Google's 100 instances without maxContainers, at most 5 000", () => {
    expect(queueLimits({ maxInstances: 3, concurrency: 4 })).toEqual({ maxConcurrentDispatches: 12, retryConfig: REDELIVERY });
    expect(queueLimits({ maxInstances: 100, concurrency: 80 })).toEqual({
      maxConcurrentDispatches: 5000,
      retryConfig: REDELIVERY,
    });
  });

  it("is created, then a second run is one read, then a changed limit is one update naming only it", async () => {
    const ctx = context();
    let before = { ...tasks.calls };
    expect(await ensureQueue(ctx, ref, "resize", { maxConcurrentDispatches: 12, retryConfig: REDELIVERY })).toBe("created");
    expect(delta(before)).toEqual({ GetQueue: 1, CreateQueue: 1 });
    before = { ...tasks.calls };
    expect(await ensureQueue(ctx, ref, "resize", { maxConcurrentDispatches: 12, retryConfig: REDELIVERY })).toEqual([]);
    expect(delta(before)).toEqual({ GetQueue: 1 });
    before = { ...tasks.calls };
    expect(await ensureQueue(ctx, ref, "resize", { maxConcurrentDispatches: 30, retryConfig: REDELIVERY })).toEqual([
      "rate_limits.max_concurrent_dispatches",
    ]);
    expect(delta(before)).toEqual({ GetQueue: 1, UpdateQueue: 1 });
    const [q] = await (await ctx.sdk.tasks()).getQueue({ name: queue });
    expect(q.rateLimits?.maxConcurrentDispatches).toBe(30);
    expect(q.retryConfig).toMatchObject({ maxAttempts: 100, maxDoublings: 6 });
    expect([q.retryConfig?.minBackoff?.seconds, q.retryConfig?.maxBackoff?.seconds].map(Number)).toEqual([1, 60]);
    // What the mask did not name is the double's (Google's) default, untouched.
    expect(q.rateLimits?.maxDispatchesPerSecond).toBe(500);
  });

  it("a queue changed by hand to one attempt (deliveries lost) is set back to faasade's redelivery", async () => {
    const ctx = context();
    const client = await ctx.sdk.tasks();
    await client.updateQueue({
      queue: { name: queue, retryConfig: { maxAttempts: 1, maxBackoff: { seconds: 3600 } } },
      updateMask: { paths: ["retry_config.max_attempts", "retry_config.max_backoff"] },
    });
    expect(await ensureQueue(ctx, ref, "resize", { maxConcurrentDispatches: 30, retryConfig: REDELIVERY })).toEqual([
      "retry_config.max_attempts",
      "retry_config.max_backoff",
    ]);
    const [q] = await client.getQueue({ name: queue });
    expect(q.retryConfig?.maxAttempts).toBe(100);
    expect(Number(q.retryConfig?.maxBackoff?.seconds)).toBe(60);
  });

  it("is removed; removing it again is no error", async () => {
    const ctx = context();
    await removeQueue(ctx, ref, "resize");
    await expect((await ctx.sdk.tasks()).getQueue({ name: queue })).rejects.toMatchObject({ code: 5 });
    await removeQueue(ctx, ref, "resize");
  });
});

describe("the app's bucket (contract)", () => {
  it("is created in the region with uniform access, the retention lifecycle and labels; then one read", async () => {
    const ctx = context({ retentionMs: 3 * DAY + 1 });
    storage.takeCounts();
    expect(await ensureBucket(ctx, ref)).toBe("created");
    expect(storage.takeCounts()).toEqual({ "buckets.get": 1, "buckets.insert": 1 });
    const [meta] = await (await ctx.sdk.storage()).bucket(bucketName(ref)).getMetadata();
    expect(meta.location).toBe("europe-west1");
    expect(meta.iamConfiguration?.uniformBucketLevelAccess?.enabled).toBe(true);
    expect(meta.labels).toEqual(bucketLabels(ref));
    expect(meta.lifecycle?.rule).toEqual(lifecycleRules(3 * DAY + 1));
    expect(meta.lifecycle?.rule?.[0]?.condition?.age).toBe(4);
    storage.takeCounts();
    expect(await ensureBucket(ctx, ref)).toEqual([]);
    expect(storage.takeCounts()).toEqual({ "buckets.get": 1 });
  });

  it("a different retention patches the lifecycle only, keeping the user's labels", async () => {
    const ctx = context({ retentionMs: DAY });
    const bucket = (await ctx.sdk.storage()).bucket(bucketName(ref));
    await bucket.setMetadata({ labels: { team: "imaging" } });
    storage.takeCounts();
    expect(await ensureBucket(ctx, ref)).toEqual(["lifecycle"]);
    expect(storage.takeCounts()).toEqual({ "buckets.get": 1, "buckets.patch": 1 });
    const [meta] = await bucket.getMetadata();
    expect(meta.lifecycle?.rule?.[0]?.condition?.age).toBe(1);
    expect(meta.labels).toEqual({ ...bucketLabels(ref), team: "imaging" });
  });

  it("a shared bucket is only checked: nothing is made or changed; a missing one is NotFoundError", async () => {
    const storageClient = await context().sdk.storage();
    await storageClient.createBucket("team-shared-bucket");
    storage.takeCounts();
    expect(await ensureBucket(context({ bucket: "team-shared-bucket" }), { ...ref, bucket: "team-shared-bucket" })).toBe(
      "shared",
    );
    expect(storage.takeCounts()).toEqual({ "buckets.get": 1 });
    const [meta] = await storageClient.bucket("team-shared-bucket").getMetadata();
    expect(meta.lifecycle).toBeUndefined();
    await expect(ensureBucket(context({ bucket: "no-such-bucket" }), { ...ref, bucket: "no-such-bucket" })).rejects.toMatchObject(
      { name: "NotFoundError", message: expect.stringContaining('"no-such-bucket"') },
    );
  });
});
