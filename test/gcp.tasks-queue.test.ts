// The Queue primitive on Cloud Tasks (src/providers/gcp/tasks-queue.ts) against the Cloud Tasks
// test double: one CreateTask per message, names from dedupKey (a resend is de-duplicated and
// counts as queued), delays as schedule times, transient refusals as TransportError, and
// DeleteTask withdrawing a queued input.
process.env.METADATA_SERVER_DETECTION = "none";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { batchedSender } from "../src/cloud/batching.js";
import { NotFoundError, ProviderError } from "../src/core/errors.js";
import { TransportError } from "../src/core/transport.js";
import { type GcpClients, gcpClients } from "../src/providers/gcp/clients.js";
import { deleteTask, dispatchDeadlineMs, taskBody, taskName, tasksQueue } from "../src/providers/gcp/tasks-queue.js";
import { idTokenDouble } from "../src/testing/gcp/id-tokens.js";
import { startMetadataDouble } from "../src/testing/gcp/metadata-double.js";
import { type TasksDouble, startTasksDouble } from "../src/testing/gcp/tasks-double.js";
import { type HttpTarget, startHttpTarget } from "./fixtures/http-target.js";

const LOCATION = "projects/p1/locations/europe-west1";
const QUEUE = `${LOCATION}/queues/fn-1`;
const ACCOUNT = "invoker@p1.iam.gserviceaccount.com";

let double: TasksDouble;
let target: HttpTarget;
let clients: GcpClients;

beforeEach(async () => {
  [double, target] = await Promise.all([startTasksDouble(), startHttpTarget()]);
  clients = gcpClients({ project: "p1", endpoints: { tasks: double.url }, authClient: double.authClient });
  const tasks = await clients.tasks();
  await tasks.createQueue({
    parent: LOCATION,
    queue: { name: QUEUE, rateLimits: { maxConcurrentDispatches: 50 }, retryConfig: { maxAttempts: 1 } },
  });
});
afterEach(async () => {
  await (await clients.tasks()).close();
  await double.close();
  await target.close();
});

const queue = (more: { functionTimeoutMs?: number } = {}) =>
  tasksQueue(clients, { queuePath: QUEUE, targetUrl: target.url, serviceAccountEmail: ACCOUNT, ...more });
const envelope = (n: number) => JSON.stringify({ callId: `fc-${n}`, args: [n] });

describe("gcp tasks queue", () => {
  it("sends one CreateTask per message, each delivered as an authenticated JSON POST", async () => {
    const q = queue();
    const answers = await q.sendBatch([0, 1, 2, 3, 4].map((n) => ({ body: envelope(n) })));
    expect(answers).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(double.calls.CreateTask).toBe(5);
    await target.waitFor(5);
    expect(target.received.map((r) => r.body).sort()).toEqual([0, 1, 2, 3, 4].map(envelope).sort());
    for (const r of target.received) {
      expect(r.method).toBe("POST");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(double.tokens.claimsOf(r.headers.authorization, target.url)?.email).toBe(ACCOUNT);
    }
  });

  it("through the batched sender, 20 spawns in one tick cost 20 requests (Tasks has no batch call)", async () => {
    const q = queue();
    const send = batchedSender();
    await Promise.all(Array.from({ length: 20 }, (_, n) => send(q, { body: envelope(n) })));
    expect(double.calls.CreateTask).toBe(20);
    await target.waitFor(20);
  });

  it("names tasks by a sha256 of the dedupKey: a resend, even after delivery, is de-duplicated and counts as queued", async () => {
    const q = queue();
    expect(taskName(QUEUE, "fc-1:0")).toMatch(new RegExp(`^${QUEUE}/tasks/[0-9a-f]{64}$`));
    expect(taskName(QUEUE, "fc-1:1")).not.toBe(taskName(QUEUE, "fc-1:0"));

    expect(await q.sendBatch([{ body: envelope(1), dedupKey: "fc-1:0" }])).toEqual([undefined]);
    await target.waitFor(1);
    await expect.poll(() => double.stats(QUEUE).succeeded).toBe(1);
    // Both the duplicate in one batch and the late resend are refused by Google as ALREADY_EXISTS.
    const again = await q.sendBatch([
      { body: envelope(1), dedupKey: "fc-1:0" },
      { body: envelope(1), dedupKey: "fc-1:1" },
    ]);
    expect(again).toEqual([undefined, undefined]);
    await target.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(target.received).toHaveLength(2);
    expect(target.received.map((r) => r.headers["x-cloudtasks-taskname"])).toEqual([
      taskName(QUEUE, "fc-1:0").split("/").pop(),
      taskName(QUEUE, "fc-1:1").split("/").pop(),
    ]);
  });

  it("honours delayMs as the task's schedule time", async () => {
    const sent = Date.now();
    await queue().sendBatch([{ body: envelope(1), delayMs: 1_500 }]);
    await new Promise((r) => setTimeout(r, 700));
    expect(target.received).toHaveLength(0);
    await target.waitFor(1);
    expect((target.received[0]?.at ?? 0) - sent).toBeGreaterThanOrEqual(1_400);
  });

  it("sets the dispatch deadline from the function's timeout, within Cloud Tasks' [15 s, 30 min]", async () => {
    const q = queue({ functionTimeoutMs: 60_000 });
    await q.sendBatch([{ body: envelope(1), dedupKey: "k", delayMs: 60_000 }]);
    const [task] = await (await clients.tasks()).getTask({ name: taskName(QUEUE, "k") });
    expect(Number(task.dispatchDeadline?.seconds)).toBe(90);
    expect(dispatchDeadlineMs(undefined)).toBe(600_000);
    expect(dispatchDeadlineMs(1_000)).toBe(31_000);
    expect(dispatchDeadlineMs(3 * 3_600_000)).toBe(1_800_000);
    expect(() => dispatchDeadlineMs(-5)).toThrow(/functionTimeoutMs .* got -5/);
  });

  it("a 503 burst surfaces as TransportError for the refused message; the next send goes through", async () => {
    const q = queue();
    double.fail(1, { rpc: /CreateTask/ });
    const [refused, passed] = await q.sendBatch([{ body: envelope(1) }, { body: envelope(2) }]);
    expect([refused, passed].filter((a) => a instanceof TransportError)).toHaveLength(1);
    expect([refused, passed].filter((a) => a === undefined)).toHaveLength(1);
    expect(String([refused, passed].find((a) => a)?.message)).toMatch(/CreateTask .*fn-1 failed/);
    expect(await q.sendBatch([{ body: envelope(3) }])).toEqual([undefined]);
    double.fail(1, { kind: "reset", rpc: /CreateTask/ });
    const [dropped] = await q.sendBatch([{ body: envelope(4) }]);
    expect(dropped).toBeInstanceOf(TransportError);
  });

  it("a refusal that is not transient names the operation: NOT_FOUND as NotFoundError, a too large task as ProviderError", async () => {
    const q = tasksQueue(clients, { queuePath: `${LOCATION}/queues/missing`, targetUrl: target.url });
    const [missing] = await q.sendBatch([{ body: envelope(1) }]);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing?.message).toMatch(/CreateTask .*queues\/missing/);
    const big = await queue().sendBatch([{ body: "x".repeat(1_000_001) }]);
    expect(big[0]).toBeInstanceOf(ProviderError);
  });

  it("carries a message of maxMessageBytes (the headroom covers the task's name, URL and headers)", async () => {
    const q = queue();
    expect(q.maxMessageBytes).toBeLessThan(1_000_000);
    expect(q.maxDelayMs).toBe(30 * 86_400_000);
    const body = JSON.stringify({ pad: "y".repeat(q.maxMessageBytes - 10) });
    expect(Buffer.byteLength(body)).toBe(q.maxMessageBytes);
    expect(await q.sendBatch([{ body, dedupKey: "big" }])).toEqual([undefined]);
    await target.waitFor(1);
    expect(target.received[0]?.body).toBe(body);
  });

  it("deleteTask while queued prevents the dispatch; afterwards it answers false; taskBody reads a queued one", async () => {
    const q = queue();
    await q.sendBatch([{ body: envelope(1), dedupKey: "fc-9:0", delayMs: 1_000 }]);
    expect(await taskBody(clients, taskName(QUEUE, "fc-9:0"))).toBe(envelope(1));
    expect(await deleteTask(clients, taskName(QUEUE, "fc-9:0"))).toBe(true);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(target.received).toHaveLength(0);
    expect(double.dispatches).toHaveLength(0);
    expect(await deleteTask(clients, taskName(QUEUE, "fc-9:0"))).toBe(false);
    expect(await taskBody(clients, taskName(QUEUE, "fc-9:0"))).toBeUndefined();
    // A resend under the same key stays de-duplicated: the cancelled input does not come back.
    expect(await q.sendBatch([{ body: envelope(1), dedupKey: "fc-9:0" }])).toEqual([undefined]);
    await new Promise((r) => setTimeout(r, 300));
    expect(target.received).toHaveLength(0);
  });

  it("refuses bad options up front, quoting them", () => {
    expect(() => tasksQueue(clients, { queuePath: "queues/q", targetUrl: target.url })).toThrow(/queuePath .*'queues\/q'/);
    expect(() => tasksQueue(clients, { queuePath: QUEUE, targetUrl: "ftp://x" })).toThrow(/targetUrl .*'ftp:\/\/x'/);
  });
});

describe("gcp tasks queue with Application Default Credentials (the metadata server)", () => {
  // Through ADC the clients send with gaxios, whose refusals carry HTTP statuses (409, 404), not gRPC codes.
  it("a resend is still queued (409 ALREADY_EXISTS), and DeleteTask of a gone task is false (404)", async () => {
    const metadata = await startMetadataDouble({
      tokens: idTokenDouble(),
      project: "p1",
      region: "europe-west1",
      serviceAccount: ACCOUNT,
    });
    const saved = { ...process.env };
    Object.assign(process.env, {
      GCE_METADATA_HOST: metadata.host,
      METADATA_SERVER_DETECTION: "assume-present",
      GOOGLE_APPLICATION_CREDENTIALS: "",
      CLOUDSDK_CONFIG: "/nonexistent/faasade-test",
    });
    try {
      const adc = gcpClients({ project: "p1", endpoints: { tasks: double.url } });
      const q = tasksQueue(adc, { queuePath: QUEUE, targetUrl: target.url });
      expect(await q.sendBatch([{ body: envelope(7), dedupKey: "fc-7/1" }])).toEqual([undefined]);
      expect(await q.sendBatch([{ body: envelope(7), dedupKey: "fc-7/1" }])).toEqual([undefined]);
      expect(double.calls.CreateTask).toBe(2);
      await target.waitFor(1);
      expect(await deleteTask(adc, taskName(QUEUE, "never-sent/1"))).toBe(false);
      expect(metadata.calls["instance/service-accounts/default/token"]).toBeGreaterThan(0);
      await (await adc.tasks()).close();
    } finally {
      process.env = saved;
      await metadata.close();
    }
  });
});
