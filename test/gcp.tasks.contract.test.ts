// Contract tests of the Cloud Tasks test double: the real @google-cloud/tasks client (REST
// fallback, as gcpClients makes it) against the stand-in, which really dispatches to a local
// HTTP target. Google ships no Cloud Tasks emulator; these pin the behaviour faasade relies on.
process.env.METADATA_SERVER_DETECTION = "none";
import type { CloudTasksClient } from "@google-cloud/tasks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gcpClients } from "../src/providers/gcp/clients.js";
import { idTokenDouble } from "../src/testing/gcp/id-tokens.js";
import { type TasksDouble, startTasksDouble } from "../src/testing/gcp/tasks-double.js";
import { type HttpTarget, startHttpTarget } from "./fixtures/http-target.js";

const LOCATION = "projects/p1/locations/europe-west1";
const QUEUE = `${LOCATION}/queues/q1`;

let double: TasksDouble;
let target: HttpTarget;
let client: CloudTasksClient;

async function start(options: Parameters<typeof startTasksDouble>[0] = {}) {
  double = await startTasksDouble(options);
  client = await gcpClients({ project: "p1", endpoints: { tasks: double.url }, authClient: double.authClient }).tasks();
}
beforeEach(async () => {
  target = await startHttpTarget();
});
afterEach(async () => {
  await client?.close();
  await double?.close();
  await target.close();
});

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    (e: { code?: number }) => e.code,
  );
const createQueue = (concurrent = 10, maxAttempts = 1, extra: Record<string, unknown> = {}) =>
  client.createQueue({
    parent: LOCATION,
    queue: { name: QUEUE, rateLimits: { maxConcurrentDispatches: concurrent }, retryConfig: { maxAttempts, ...extra } },
  });
const httpTask = (id?: string, more: Record<string, unknown> = {}) => ({
  ...(id ? { name: `${QUEUE}/tasks/${id}` } : {}),
  httpRequest: {
    url: target.url,
    httpMethod: "POST" as const,
    headers: { "Content-Type": "application/json" },
    body: Buffer.from('{"n":1}'),
  },
  ...more,
});
const inSeconds = (ms: number) => {
  const at = Date.now() + ms;
  return { seconds: Math.floor(at / 1000), nanos: (at % 1000) * 1e6 };
};

describe("Cloud Tasks test double: queues (contract)", () => {
  beforeEach(() => start());

  it("creates, gets, updates by mask, lists with pages and deletes a queue", async () => {
    const [made] = await createQueue(3, 1);
    expect(made.name).toBe(QUEUE);
    expect(made.state).toBe("RUNNING");
    expect(made.rateLimits?.maxConcurrentDispatches).toBe(3);
    expect(made.retryConfig?.maxAttempts).toBe(1);
    expect(await codeOf(createQueue())).toBe(6); // ALREADY_EXISTS

    // Only the masked field changes: maxAttempts given in the body but not in the mask stays 1.
    const [updated] = await client.updateQueue({
      queue: { name: QUEUE, rateLimits: { maxConcurrentDispatches: 7 }, retryConfig: { maxAttempts: 5 } },
      updateMask: { paths: ["rate_limits.max_concurrent_dispatches"] },
    });
    expect(updated.rateLimits?.maxConcurrentDispatches).toBe(7);
    expect(updated.retryConfig?.maxAttempts).toBe(1);
    const [got] = await client.getQueue({ name: QUEUE });
    expect(got.rateLimits?.maxConcurrentDispatches).toBe(7);

    await client.createQueue({ parent: LOCATION, queue: { name: `${LOCATION}/queues/q2` } });
    const [first, , page1] = await client.listQueues({ parent: LOCATION, pageSize: 1 }, { autoPaginate: false });
    expect(first.map((q) => q.name)).toEqual([QUEUE]);
    const [second] = await client.listQueues(
      { parent: LOCATION, pageSize: 1, pageToken: page1?.nextPageToken ?? "" },
      { autoPaginate: false },
    );
    expect(second.map((q) => q.name)).toEqual([`${LOCATION}/queues/q2`]);
    const [all] = await client.listQueues({ parent: LOCATION });
    expect(all).toHaveLength(2);

    await client.deleteQueue({ name: QUEUE });
    expect(await codeOf(client.getQueue({ name: QUEUE }))).toBe(5); // NOT_FOUND
  });

  it("refuses rate limits beyond Google's bounds with INVALID_ARGUMENT", async () => {
    expect(await codeOf(createQueue(5001))).toBe(3);
    expect(await codeOf(client.getQueue({ name: QUEUE }))).toBe(5);
  });

  it("answers the next requests with UNAVAILABLE while a fault is on, then normally", async () => {
    await createQueue();
    double.fail(1, { rpc: /CreateTask/ });
    expect(await codeOf(client.createTask({ parent: QUEUE, task: httpTask("t1", { scheduleTime: inSeconds(60_000) }) }))).toBe(
      14,
    );
    const [made] = await client.createTask({ parent: QUEUE, task: httpTask("t1", { scheduleTime: inSeconds(60_000) }) });
    expect(made.name).toBe(`${QUEUE}/tasks/t1`);
    expect(double.calls.CreateTask).toBe(2);
    double.fail(1, { kind: "reset", rpc: /GetTask/ });
    // A dropped connection reaches the caller as the fetch's own error (gax retries status codes only).
    const dropped = await client.getTask({ name: `${QUEUE}/tasks/t1` }).catch((e: { cause?: { code?: string } }) => e);
    expect((dropped as { cause?: { code?: string } }).cause?.code).toBe("UND_ERR_SOCKET");
    const [again] = await client.getTask({ name: `${QUEUE}/tasks/t1` });
    expect(again.name).toBe(made.name);
    expect(double.calls.GetTask).toBe(2);
  });
});

describe("Cloud Tasks test double: tasks (contract)", () => {
  beforeEach(async () => {
    await start({ deadlineScale: 0.1 });
    await createQueue(10, 1);
  });

  it("creates, gets (BASIC and FULL), lists and deletes a task; its name stays taken after deletion", async () => {
    const [made] = await client.createTask({ parent: QUEUE, task: httpTask("a1", { scheduleTime: inSeconds(3_600_000) }) });
    expect(made.name).toBe(`${QUEUE}/tasks/a1`);
    expect(made.httpRequest?.body ?? []).toHaveLength(0); // BASIC view by default: no body
    expect(Number(made.dispatchDeadline?.seconds)).toBe(600); // Google's default 10 min
    const [full] = await client.getTask({ name: made.name as string, responseView: "FULL" });
    expect(Buffer.from(full.httpRequest?.body as Uint8Array).toString()).toBe('{"n":1}');
    expect(full.httpRequest?.httpMethod).toBe("POST");
    const [listed] = await client.listTasks({ parent: QUEUE });
    expect(listed.map((t) => t.name)).toEqual([made.name]);

    await client.deleteTask({ name: made.name as string });
    expect(await codeOf(client.getTask({ name: made.name as string }))).toBe(5);
    expect(await codeOf(client.deleteTask({ name: made.name as string }))).toBe(5);
    expect(await codeOf(client.createTask({ parent: QUEUE, task: httpTask("a1") }))).toBe(6);
    expect(target.received).toHaveLength(0);
  });

  it("generates distinct, non-sequential names for unnamed tasks", async () => {
    const names = [];
    for (let i = 0; i < 3; i++) {
      const [t] = await client.createTask({ parent: QUEUE, task: httpTask(undefined, { scheduleTime: inSeconds(60_000) }) });
      names.push(t.name as string);
    }
    expect(new Set(names).size).toBe(3);
    for (const n of names) expect(n).toMatch(new RegExp(`^${QUEUE}/tasks/\\d+$`));
    const ids = names.map((n) => BigInt(n.split("/").pop() as string));
    expect(ids[1] === (ids[0] as bigint) + 1n && ids[2] === (ids[1] as bigint) + 1n).toBe(false);
  });

  it("refuses bad names, far schedule times, deadlines outside [15 s, 30 min] and tasks over 1 MB", async () => {
    expect(await codeOf(client.createTask({ parent: QUEUE, task: httpTask("bad.name") }))).toBe(3);
    expect(
      await codeOf(client.createTask({ parent: QUEUE, task: httpTask("x", { scheduleTime: inSeconds(31 * 86_400_000) }) })),
    ).toBe(3);
    expect(await codeOf(client.createTask({ parent: QUEUE, task: httpTask("y", { dispatchDeadline: { seconds: 10 } }) }))).toBe(
      3,
    );
    expect(await codeOf(client.createTask({ parent: QUEUE, task: httpTask("z", { dispatchDeadline: { seconds: 1801 } }) }))).toBe(
      3,
    );
    const big = { ...httpTask("w"), httpRequest: { url: target.url, body: Buffer.alloc(1_000_001, 97) } };
    expect(await codeOf(client.createTask({ parent: QUEUE, task: big }))).toBe(3);
    expect(await codeOf(client.createTask({ parent: `${LOCATION}/queues/none`, task: httpTask() }))).toBe(5);
  });

  it("dispatches with method, headers, body and a verifiable OIDC token; the task is then gone and its name taken", async () => {
    const oidcToken = { serviceAccountEmail: "runner@p1.iam.gserviceaccount.com", audience: "https://fn.example/run" };
    const task = httpTask("d1");
    await client.createTask({ parent: QUEUE, task: { ...task, httpRequest: { ...task.httpRequest, oidcToken } } });
    await target.waitFor(1);
    const [r] = target.received;
    expect(r?.method).toBe("POST");
    expect(r?.body).toBe('{"n":1}');
    expect(r?.headers["content-type"]).toBe("application/json");
    expect(r?.headers["x-cloudtasks-taskname"]).toBe("d1");
    expect(r?.headers["x-cloudtasks-queuename"]).toBe("q1");
    expect(r?.headers["x-cloudtasks-taskretrycount"]).toBe("0");
    const claims = double.tokens.claimsOf(r?.headers.authorization, "https://fn.example/run");
    expect(claims?.email).toBe(oidcToken.serviceAccountEmail);
    expect(double.tokens.verify(r?.headers.authorization, target.url)).toBe(false);
    expect(idTokenDouble().verify(r?.headers.authorization, "https://fn.example/run")).toBe(false); // another signer

    await expect.poll(() => double.stats(QUEUE).succeeded).toBe(1);
    expect(await codeOf(client.getTask({ name: `${QUEUE}/tasks/d1` }))).toBe(5);
    expect(await codeOf(client.createTask({ parent: QUEUE, task: httpTask("d1") }))).toBe(6);
    expect(double.dispatches.map((d) => [d.task, d.attempt, d.status, d.outcome])).toEqual([
      [`${QUEUE}/tasks/d1`, 1, 200, "succeeded"],
    ]);
  });

  it("delivers a task again when told (a fault): a copy at once and one later, the same request, recorded as copies", async () => {
    double.duplicate({ ms: 5_000, copies: 1 });
    await client.createTask({ parent: QUEUE, task: httpTask("c1") });
    await target.waitFor(2);
    double.clearDuplicates();
    double.duplicate({ ms: 5_000, copies: 1, delaySeconds: 1 });
    await client.createTask({ parent: QUEUE, task: httpTask("c2") });
    await target.waitFor(4, 5_000);
    double.clearDuplicates();
    expect(
      target.received.map((r) => [r.headers["x-cloudtasks-taskname"], r.headers["x-cloudtasks-taskretrycount"], r.body]),
    ).toEqual([
      ["c1", "0", '{"n":1}'],
      ["c1", "0", '{"n":1}'],
      ["c2", "0", '{"n":1}'],
      ["c2", "0", '{"n":1}'],
    ]);
    // The later copy left a second after the first delivery began.
    expect((target.received[3]?.at ?? 0) - (target.received[2]?.at ?? 0)).toBeGreaterThanOrEqual(700);
    await expect.poll(() => double.dispatches.length).toBe(4);
    expect(double.dispatches.filter((d) => d.copy).map((d) => d.task)).toEqual([`${QUEUE}/tasks/c1`, `${QUEUE}/tasks/c2`]);
    // A copy never settles the task: each was done by its own first dispatch, counted once.
    expect(double.stats(QUEUE).tasks).toBe(0);
  });

  it("keeps to the queue's maxConcurrentDispatches: 10 tasks of 300 ms, 3 at a time", async () => {
    await client.updateQueue({
      queue: { name: QUEUE, rateLimits: { maxConcurrentDispatches: 3 } },
      updateMask: { paths: ["rate_limits.max_concurrent_dispatches"] },
    });
    target.answer = () => ({ delayMs: 300 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, () => client.createTask({ parent: QUEUE, task: httpTask() })));
    await expect.poll(() => double.stats(QUEUE).succeeded, { timeout: 10_000 }).toBe(10);
    expect(target.maxInFlight).toBe(3);
    expect(double.stats(QUEUE).maxRunning).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 300 - 50); // ceil(10 / 3) rounds
    expect(double.stats(QUEUE).tasks).toBe(0);
  });

  it("aborts a dispatch at its deadline and counts it failed (no retry with maxAttempts 1)", async () => {
    target.answer = () => ({ delayMs: 8_000 });
    // 15 s declared; the double enforces it at 0.1 of that: 1.5 s.
    await client.createTask({ parent: QUEUE, task: httpTask("slow", { dispatchDeadline: { seconds: 15 } }) });
    await expect.poll(() => double.dispatches.length, { timeout: 8_000 }).toBe(1);
    const [d] = double.dispatches;
    expect(d?.outcome).toBe("deadline");
    expect(d?.status).toBeUndefined();
    expect(d?.ms).toBeGreaterThanOrEqual(1_400);
    expect(d?.ms).toBeLessThan(6_000);
    expect(double.stats(QUEUE).tasks).toBe(0);
    expect(target.received).toHaveLength(1);
  });

  it("retries failed attempts with backoff while retryConfig.maxAttempts allows", async () => {
    await client.updateQueue({
      queue: { name: QUEUE, retryConfig: { maxAttempts: 3, minBackoff: { nanos: 100e6 }, maxBackoff: { seconds: 1 } } },
      updateMask: { paths: ["retry_config.max_attempts", "retry_config.min_backoff", "retry_config.max_backoff"] },
    });
    target.answer = () => ({ status: target.received.length < 3 ? 503 : 200 });
    await client.createTask({ parent: QUEUE, task: httpTask("r1") });
    await expect.poll(() => double.stats(QUEUE).succeeded, { timeout: 8_000 }).toBe(1);
    expect(double.dispatches.map((d) => [d.attempt, d.status])).toEqual([
      [1, 503],
      [2, 503],
      [3, 200],
    ]);
    expect(target.received.map((r) => r.headers["x-cloudtasks-taskretrycount"])).toEqual(["0", "1", "2"]);
  });

  it("dispatches no sooner than scheduleTime", async () => {
    const created = Date.now();
    await client.createTask({ parent: QUEUE, task: httpTask("later", { scheduleTime: inSeconds(1_500) }) });
    await new Promise((r) => setTimeout(r, 800));
    expect(target.received).toHaveLength(0);
    const [waiting] = await client.getTask({ name: `${QUEUE}/tasks/later` });
    expect(waiting.dispatchCount).toBe(0);
    await target.waitFor(1);
    expect((target.received[0]?.at ?? 0) - created).toBeGreaterThanOrEqual(1_400);
  });

  it("purges a queue's tasks: none is dispatched and the purge time is set", async () => {
    await client.createTask({ parent: QUEUE, task: httpTask("g1", { scheduleTime: inSeconds(600) }) });
    const [purged] = await client.purgeQueue({ name: QUEUE });
    expect(Number(purged.purgeTime?.seconds)).toBeGreaterThan(0);
    expect(double.stats(QUEUE).tasks).toBe(0);
    await new Promise((r) => setTimeout(r, 900));
    expect(target.received).toHaveLength(0);
  });

  it("holds tasks while the queue is paused and dispatches them on resume", async () => {
    await client.pauseQueue({ name: QUEUE });
    await client.createTask({ parent: QUEUE, task: httpTask("p1") });
    await new Promise((r) => setTimeout(r, 300));
    expect(target.received).toHaveLength(0);
    await client.resumeQueue({ name: QUEUE });
    await target.waitFor(1);
  });
});
