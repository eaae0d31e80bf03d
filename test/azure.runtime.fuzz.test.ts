// Fuzzed requests and queue messages for the Azure runtime, served by the host stand-in (a test double:
// one process per instance) with azurite's queues: a body that is no envelope is a 400 naming what is wrong,
// a message that can never run is dropped (deleted, not poisoned); neither ever crashes an instance.
import { QueueServiceClient } from "@azure/storage-queue";
import fc from "fast-check";
import { decode, encode } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Azurite, startAzurite } from "../dist/src/testing/azure/azurite.js";
import { type AzureFunctionHost, startFunctionHost } from "../dist/src/testing/azure/function-host.js";

const APP = new URL("./fixtures/azure-app.mjs", import.meta.url).href;
const PLATFORM = new URL("./fixtures/gcp-doubles.mjs", import.meta.url).href;
const QUEUE = "fuzz-q";
let azurite: Azurite;
let host: AzureFunctionHost;
let queues: QueueServiceClient;
let pidsBefore: number[] = [];

beforeAll(async () => {
  azurite = await startAzurite();
  queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  await queues.getQueueClient(QUEUE).createIfNotExists();
  host = await startFunctionHost({
    sites: {
      fuzz: {
        module: APP,
        maxInstances: 2,
        alwaysReady: 1,
        env: { FAASADE_AZURE_STORAGE: azurite.connectionString, FAASADE_AZURE_QUEUE: QUEUE },
        queues: { maxDequeueCount: 2, leaseMs: 10_000, maxPollingIntervalMs: 200 },
      },
    },
    platform: PLATFORM,
    idleMs: 600_000,
    logs: "ignore",
  });
  pidsBefore = host.pids("fuzz");
}, 60_000);
afterAll(async () => {
  await host?.close();
  await azurite?.close();
});

let n = 0;
const good = (fn = "square", values: unknown[] = [3]): Record<string, unknown> => {
  const id = `fuzz-${++n}`;
  return {
    v: 1,
    app: "azure-app",
    env: "main",
    fn,
    inputId: `in-${id}`,
    callId: `fc-${id}`,
    attempt: 1,
    args: Buffer.from(encode(values, "args")).toString("base64"),
    store: { name: "container", prefix: "" },
  };
};
const FIELDS = ["v", "app", "env", "fn", "inputId", "callId", "attempt", "args", "store", "spawn", "argsAt", "parent"];
/** A good envelope with a few fields set to anything, or removed. */
const mutated = fc
  .tuple(
    fc.constantFrom("square", "slowCount", "fail", "nope"),
    fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined })), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([fn, changes]) => {
    const e = good(fn, [1]);
    for (const [field, value] of changes) {
      if (value === undefined) delete e[field];
      else e[field] = value;
    }
    return JSON.stringify(e);
  });
const noEnvelope = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
  fc.constantFrom("", "{", "[1,", "\u0000", '{"v":1', "null", "[]", "{}", '{"__proto__":{"polluted":1}}'),
);

const post = async (body: string, accept?: string) => {
  const r = await fetch(`${host.urlOf("fuzz")}/faasade`, {
    method: "POST",
    headers: { "x-functions-key": host.keyOf("fuzz"), "content-type": "application/json", ...(accept ? { accept } : {}) },
    body,
  });
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() };
};

describe("azure runtime: fuzzed calls through the host stand-in", { timeout: 120_000 }, () => {
  it("answer an outcome or a 400 naming what is wrong; never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, noEnvelope), fc.boolean(), async (body, streamed) => {
        const r = await post(body, streamed ? "application/x-ndjson" : undefined);
        const ctx = `${streamed ? "stream" : "call"} ${body.slice(0, 200)} → ${r.status} ${r.text.slice(0, 200)}`;
        expect([200, 400], ctx).toContain(r.status);
        if (r.status === 400) return void expect(r.text, ctx).toMatch(/^faasade: the request's (body|envelope)/);
        const lines = r.text.trim().split("\n");
        const last = JSON.parse(lines[lines.length - 1] ?? "null");
        const outcome = streamed ? last?.o : last;
        expect(outcome?.status, ctx).toMatch(/^(SUCCESS|FAILURE|INIT_FAILURE|TIMEOUT)$/);
      }),
      { numRuns: 150, interruptAfterTimeLimit: 40_000 },
    );
    expect(host.pids("fuzz")).toEqual(expect.arrayContaining(pidsBefore));
  });
});

describe("azure runtime: fuzzed queue messages through the host stand-in", { timeout: 120_000 }, () => {
  it("are run or dropped, never poisoned, and no instance crashes", async () => {
    const queue = queues.getQueueClient(QUEUE);
    const bodies = fc.sample(fc.oneof(mutated, noEnvelope), { numRuns: 120 });
    const spawned = fc.sample(mutated, { numRuns: 30 }).map((b) => {
      const e = JSON.parse(b);
      return JSON.stringify({ ...e, spawn: { queue: QUEUE, retentionMs: 60_000 } });
    });
    for (const body of [...bodies, ...spawned]) await queue.sendMessage(Buffer.from(body).toString("base64"));
    await expect
      .poll(async () => (await queue.getProperties()).approximateMessagesCount, { timeout: 60_000, interval: 500 })
      .toBe(0);
    const poison = queues.getQueueClient(`${QUEUE}-poison`);
    const poisoned = (await poison.exists()) ? (await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems : [];
    expect(poisoned.map((m) => Buffer.from(m.messageText, "base64").toString())).toEqual([]);
    expect(host.pids("fuzz")).toEqual(expect.arrayContaining(pidsBefore));
  });
});

describe("azure runtime: after the fuzzing", { timeout: 60_000 }, () => {
  it("a good call and a good stream still run, and nothing was polluted", async () => {
    const call = await post(JSON.stringify(good("square", [12])));
    expect(call.status).toBe(200);
    expect(decode(Buffer.from(JSON.parse(call.text).value, "base64"))).toBe(144);
    const streamed = await post(JSON.stringify(good("slowCount", [1])), "application/x-ndjson");
    const lines = streamed.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.slice(0, 2).map((l) => decode(Buffer.from(l.c, "base64")))).toEqual([0, 1]);
    expect(lines[2]?.o?.status).toBe("SUCCESS");
    expect(Object.prototype).not.toHaveProperty("polluted");
  });
});
