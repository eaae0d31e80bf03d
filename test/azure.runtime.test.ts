// The Azure runtime's registrations with the real @azure/functions, in this process: the functions-core
// stand-in captures them, and each is invoked with the package's own HttpRequest and InvocationContext;
// its store and queue are in-memory test doubles (test/fixtures/gcp-doubles.mjs).
import { decode, encode } from "faasade";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { keysIn } from "../dist/src/cloud/keys.js";
import type { ObjectStore, Queue } from "../dist/src/cloud/primitives.js";
import { type Registration, installFunctionsCore } from "../dist/src/testing/azure/functions-core.js";
import { invokeHttp, invokeQueue } from "../dist/src/testing/azure/invocations.js";
import { memoryQueue, memoryStore } from "./fixtures/gcp-doubles.mjs";

// Installed before anything imports @azure/functions' registrations (the app fixture registers probes as it loads).
const core = installFunctionsCore();
let fixture: typeof import("./fixtures/azure-app.mjs");
const store = memoryStore();
const queue = memoryQueue();
const keys = keysIn("");
/** A store that refuses everything, as an outage that is not a passing one. */
const refusing: ObjectStore = {
  get: () => Promise.reject(new Error("the store refused")),
  has: () => Promise.reject(new Error("the store refused")),
  put: () => Promise.reject(new Error("the store refused")),
  list: () => ({
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error("the store refused")) }),
  }),
  delete: () => Promise.reject(new Error("the store refused")),
};

beforeAll(async () => {
  Object.assign(process.env, {
    FAASADE_AZURE_WEB: "anonymous",
    FAASADE_APP: "azure-app",
    FAASADE_ENVIRONMENT: "main",
    FAASADE_FUNCTION: "page",
  });
  const runtime = await import("../dist/src/providers/azure/runtime.js");
  fixture = await import("./fixtures/azure-app.mjs");
  runtime.appModule(() => import("./fixtures/azure-app.mjs"));
  runtime.registerFaasade({
    store: (name) => (name === "refusing" ? refusing : (store as ObjectStore)),
    queue: () => queue as Queue,
  });
});
afterEach(() => vi.restoreAllMocks());

const registered = (name: string) => {
  const r = core.functions.get(name);
  if (r === undefined) throw new Error(`no registration ${name}`);
  return r as Registration;
};
let n = 0;
const envelope = (fn: string, args: unknown[], container = "container") => {
  const id = `az-${++n}`;
  return {
    v: 1,
    app: "azure-app",
    env: "main",
    fn,
    inputId: `in-${id}`,
    callId: `fc-${id}`,
    attempt: 1,
    args: Buffer.from(encode(args, "args")).toString("base64"),
    store: { name: container, prefix: "" },
  };
};
const queued = (fn: string, args: unknown[], container = "container") => ({
  ...envelope(fn, args, container),
  spawn: { queue: "the-queue", retentionMs: 60_000 },
});
const post = (body: string, headers: Record<string, string> = {}) =>
  invokeHttp(registered("faasade"), {
    method: "POST",
    url: "https://site.azurewebsites.net/faasade",
    headers: { "content-type": "application/json", ...headers },
    body: new TextEncoder().encode(body),
  });
const answeredValue = (answer: { value?: string }) => decode(Buffer.from(answer.value ?? "", "base64"));
const stored = (callId: string) => JSON.parse(Buffer.from(store.objects.get(keys.result(callId)) as Uint8Array).toString("utf8"));

describe("azure runtime: registrations with @azure/functions", () => {
  it("registers faasade's HTTP entry, its queue trigger and, for a web function, the web route", () => {
    expect(registered("faasade").trigger).toMatchObject({
      type: "httpTrigger",
      methods: ["POST"],
      authLevel: "function",
      route: "faasade",
    });
    expect(registered("faasade").bindings.$return).toMatchObject({ type: "http", direction: "out" });
    expect(registered("faasade-queue").trigger).toMatchObject({
      type: "queueTrigger",
      queueName: "%FAASADE_AZURE_QUEUE%",
      connection: "FAASADE_AZURE_STORAGE",
    });
    expect(registered("web").trigger).toMatchObject({
      type: "httpTrigger",
      authLevel: "anonymous",
      route: "{*path}",
      methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    });
  });
});

describe("azure runtime: calls", () => {
  it("a sync call answers its outcome as JSON", async () => {
    const r = await post(JSON.stringify(envelope("square", [9])));
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    const answer = (await r.json()) as { status: string; value?: string; taskId?: string };
    expect(answer.status).toBe("SUCCESS");
    expect(answeredValue(answer)).toBe(81);
    expect(answer.taskId).toMatch(/^azf\/[0-9a-f]{8}$/);
  });

  it("a generator streams JSON lines as they come, then its outcome", async () => {
    const started = Date.now();
    const r = await post(JSON.stringify(envelope("slowCount", [1500])), { accept: "application/x-ndjson" });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/x-ndjson");
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    let firstAt = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (firstAt === 0 && text.includes("\n")) firstAt = Date.now();
    }
    const ended = Date.now();
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.slice(0, 2).map((l) => decode(Buffer.from(l.c, "base64")))).toEqual([0, 1]);
    expect(lines[2].o.status).toBe("SUCCESS");
    expect(ended - started).toBeGreaterThanOrEqual(1400);
    expect(ended - firstAt).toBeGreaterThanOrEqual(1000);
  });

  it("a body that is no envelope is a 400 naming what is wrong; another method a 405", async () => {
    const notJson = await post("{not json");
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toMatch(/^faasade: the request's body \(9 characters\) is not JSON/);
    const noEnvelope = await post(JSON.stringify({ v: 1, fn: "square" }));
    expect(noEnvelope.status).toBe(400);
    expect(await noEnvelope.text()).toMatch(/envelope/);
    const get = await invokeHttp(registered("faasade"), { method: "GET", url: "https://site/faasade", headers: {} });
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
  });
});

describe("azure runtime: queued inputs", () => {
  it("runs a message once and stores its outcome once; its redelivery (dequeue count 2) runs nothing", async () => {
    const e = queued("tally", [0]);
    const before = fixture.runs.tally;
    await invokeQueue(registered("faasade-queue"), JSON.stringify(e), { id: "m1", dequeueCount: 1 });
    expect(store.puts.get(keys.result(e.callId))).toBe(1);
    const result = stored(e.callId);
    expect(result.outcome.status).toBe("SUCCESS");
    expect(decode(Buffer.from(result.outcome.value, "base64"))).toBe(`${e.callId}:1`);
    await invokeQueue(registered("faasade-queue"), JSON.stringify(e), { id: "m1", dequeueCount: 2 });
    expect(fixture.runs.tally - before).toBe(1);
    expect(store.puts.get(keys.result(e.callId))).toBe(1);
  });

  it("takes the message as the host hands it: a JSON object already parsed, or its text", async () => {
    const e = queued("square", [6]);
    const r = registered("faasade-queue");
    const context = { triggerMetadata: { id: "m2", dequeueCount: 1 } } as never;
    await r.handler(e, context);
    expect(decode(Buffer.from(stored(e.callId).outcome.value, "base64"))).toBe(36);
    const text = queued("square", [7]);
    await r.handler(JSON.stringify(text), context);
    expect(decode(Buffer.from(stored(text.callId).outcome.value, "base64"))).toBe(49);
  });

  it("drops a message that can never run (no envelope, or not a queued one): logged, and the handler returns", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const r = registered("faasade-queue");
    for (const body of ["hello", "123", JSON.stringify({ v: 1 }), JSON.stringify(envelope("square", [1]))])
      await expect(invokeQueue(r, body, { id: "m3", dequeueCount: 1 })).resolves.toBeUndefined();
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/^faasade: dropped message m3, which can never run: .*not JSON/),
      expect.stringMatching(/^faasade: dropped message m3, which can never run: .*envelope/),
      expect.stringMatching(/^faasade: dropped message m3, which can never run: .*envelope/),
      expect.stringMatching(/^faasade: dropped message m3, which can never run: .*no spawn target or store/),
    ]);
  });

  it("a consumer that cannot settle the message throws, so that the host delivers it again", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const e = queued("square", [2], "refusing");
    const r = registered("faasade-queue");
    await expect(invokeQueue(r, JSON.stringify(e), { id: "m4", dequeueCount: 1 })).rejects.toThrow(/the store refused/);
    await expect(invokeQueue(r, JSON.stringify(e), { id: "m4", dequeueCount: 2 })).rejects.toThrow(/the store refused/);
  });
});

describe("azure runtime: the web function", () => {
  it("a GET streams the function's Response; a POST answers its status, headers and body", async () => {
    const web = registered("web");
    const get = await invokeHttp(web, {
      method: "GET",
      url: "https://site/some/path?gap=0",
      headers: {},
      params: { path: "some/path" },
    });
    expect(get.status).toBe(200);
    expect(await get.text()).toBe("first /some/path\nsecond\n");
    const posted = await invokeHttp(web, {
      method: "POST",
      url: "https://site/echo",
      headers: { "content-type": "text/plain" },
      body: new TextEncoder().encode("hello"),
    });
    expect([posted.status, posted.headers.get("x-app"), await posted.text()]).toEqual([201, "azure", "HELLO"]);
  });
});
