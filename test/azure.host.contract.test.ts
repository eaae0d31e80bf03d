// Contract tests of the Azure Functions host stand-in (a test double, src/testing/azure/function-host.ts)
// against azurite: what its queue trigger dispatch, its HTTP front and its instances do, as the Functions
// host does them. The probes are registered straight with @azure/functions by test/fixtures/azure-app.mjs.
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueueServiceClient } from "@azure/storage-queue";
import { decode, encode } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Azurite, startAzurite } from "../dist/src/testing/azure/azurite.js";
import { type AzureFunctionHost, startFunctionHost } from "../dist/src/testing/azure/function-host.js";

const APP = new URL("./fixtures/azure-app.mjs", import.meta.url).href;
const PLATFORM = new URL("./fixtures/gcp-doubles.mjs", import.meta.url).href;
const LOG = join(tmpdir(), `faasade-azure-probe-${process.pid}.log`);
const CAP_MS = 2500;
let azurite: Azurite;
let host: AzureFunctionHost;
let queues: QueueServiceClient;
/** The tag of four messages waiting in wide-q before the host starts. */
const WIDE = randomUUID();

beforeAll(async () => {
  azurite = await startAzurite();
  queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  for (const q of ["probe-q", "faasade-q", "batch-q", "wide-q"]) await queues.getQueueClient(q).createIfNotExists();
  for (let i = 0; i < 4; i++) await send(JSON.stringify({ tag: WIDE, i, sleepMs: 3000 }), "wide-q");
  host = await startFunctionHost({
    sites: {
      app1: {
        module: APP,
        maxInstances: 3,
        env: {
          FAASADE_AZURE_STORAGE: azurite.connectionString,
          FAASADE_AZURE_QUEUE: "faasade-q",
          PROBE_QUEUE: "probe-q",
          PROBE_LOG: LOG,
        },
        queues: { maxDequeueCount: 3, leaseMs: 4000, maxPollingIntervalMs: 200 },
      },
      batch: {
        module: APP,
        env: {
          FAASADE_AZURE_STORAGE: azurite.connectionString,
          FAASADE_AZURE_QUEUE: "faasade-q",
          PROBE_QUEUE: "batch-q",
          PROBE_LOG: LOG,
        },
        queues: { batchSize: 2, newBatchThreshold: 0, maxPollingIntervalMs: 200 },
      },
      wide: {
        module: APP,
        env: {
          FAASADE_AZURE_STORAGE: azurite.connectionString,
          FAASADE_AZURE_QUEUE: "faasade-q",
          PROBE_QUEUE: "wide-q",
          PROBE_LOG: LOG,
        },
        alwaysReady: 2,
        queues: { batchSize: 2, newBatchThreshold: 0, listeners: 2, maxPollingIntervalMs: 200 },
      },
      small: {
        module: APP,
        memoryMb: 64,
        env: { FAASADE_AZURE_STORAGE: azurite.connectionString, FAASADE_AZURE_QUEUE: "faasade-q" },
      },
      web1: {
        module: APP,
        env: {
          FAASADE_AZURE_STORAGE: azurite.connectionString,
          FAASADE_AZURE_QUEUE: "faasade-q",
          FAASADE_AZURE_WEB: "anonymous",
          FAASADE_APP: "azure-app",
          FAASADE_ENVIRONMENT: "main",
          FAASADE_FUNCTION: "page",
        },
      },
    },
    platform: PLATFORM,
    httpCapMs: CAP_MS,
    idleMs: 1500,
  });
}, 60_000);
afterAll(async () => {
  await host?.close();
  await azurite?.close();
  rmSync(LOG, { force: true });
});

interface Probe {
  message: unknown;
  type: string;
  dequeueCount: number;
  id: string;
  pid: number;
  at: number;
}
const probes = (tag: string): Probe[] => {
  let text = "";
  try {
    text = readFileSync(LOG, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.includes(tag))
    .map((l) => JSON.parse(l) as Probe);
};
const send = (text: string, queue = "probe-q") => queues.getQueueClient(queue).sendMessage(Buffer.from(text).toString("base64"));
const poisoned = async (queue: string) => {
  const q = queues.getQueueClient(`${queue}-poison`);
  if (!(await q.exists())) return [];
  return (await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
};
const waitingIn = async (queue: string) => (await queues.getQueueClient(queue).getProperties()).approximateMessagesCount;
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${host.urlOf("app1")}${path}`, { headers });

describe("azure host stand-in: queue trigger dispatch (contract, against azurite)", { timeout: 60_000 }, () => {
  it("decodes base64 messages: a JSON object is handed over parsed, other text as a string; done ones are deleted", async () => {
    const tag = randomUUID();
    await send(JSON.stringify({ tag }));
    await send(`plain ${tag}`);
    await expect.poll(() => probes(tag).length, { timeout: 15_000 }).toBe(2);
    const byType = Object.fromEntries(probes(tag).map((p) => [p.type, p]));
    expect(byType.object?.message).toEqual({ tag });
    expect(byType.string?.message).toBe(`plain ${tag}`);
    expect(probes(tag).map((p) => p.dequeueCount)).toEqual([1, 1]);
    await expect.poll(() => waitingIn("probe-q"), { timeout: 10_000 }).toBe(0);
  });

  it("a failing message comes back with a growing dequeue count, then moves to <queue>-poison after maxDequeueCount", async () => {
    const tag = randomUUID();
    const body = JSON.stringify({ tag, failTimes: 99 });
    await send(body);
    await expect
      .poll(async () => (await poisoned("probe-q")).includes(Buffer.from(body).toString("base64")), {
        timeout: 20_000,
      })
      .toBe(true);
    expect(probes(tag).map((p) => p.dequeueCount)).toEqual([1, 2, 3]);
    expect(new Set(probes(tag).map((p) => p.id)).size).toBe(1);
  });

  it("a message that fails twice and then succeeds is deleted after its third delivery, not poisoned", async () => {
    const tag = randomUUID();
    const body = JSON.stringify({ tag, failTimes: 2 });
    await send(body);
    await expect.poll(() => probes(tag).length, { timeout: 20_000 }).toBe(3);
    await expect.poll(() => waitingIn("probe-q"), { timeout: 10_000 }).toBe(0);
    expect(await poisoned("probe-q")).not.toContain(Buffer.from(body).toString("base64"));
  });

  it("a message that is no base64 never reaches the function and ends in the poison queue", async () => {
    const raw = `not base64 ${randomUUID()}!`;
    await queues.getQueueClient("probe-q").sendMessage(raw);
    await expect.poll(async () => (await poisoned("probe-q")).includes(raw), { timeout: 20_000 }).toBe(true);
    expect(probes(raw)).toEqual([]);
  });

  it("process.exit in user code fails only that message: it comes back to a new instance, and the host lives on", async () => {
    const tag = randomUUID();
    await send(JSON.stringify({ tag, exit: 3, exitTimes: 1 }));
    await expect.poll(() => probes(tag).length, { timeout: 20_000 }).toBe(2);
    const [first, second] = probes(tag);
    expect([first?.dequeueCount, second?.dequeueCount]).toEqual([1, 2]);
    expect(second?.pid).not.toBe(first?.pid);
    expect(host.pids("app1")).not.toContain(first?.pid);
    expect((await get("/anon/after")).status).toBe(200);
  });

  it("a message running longer than its lease is renewed, not delivered twice", async () => {
    const tag = randomUUID();
    await send(JSON.stringify({ tag, sleepMs: 6000 }));
    await expect.poll(() => probes(tag).length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => waitingIn("probe-q"), { timeout: 15_000, interval: 500 }).toBe(0);
    expect(probes(tag)).toHaveLength(1);
    expect(host.requests.update).toBeGreaterThan(0);
  });

  it("runs no more messages at once than a batch (batchSize 2, newBatchThreshold 0)", async () => {
    const tag = randomUUID();
    for (let i = 0; i < 6; i++) await send(JSON.stringify({ tag, i, sleepMs: 1000 }), "batch-q");
    await expect.poll(() => probes(tag).length, { timeout: 30_000 }).toBe(6);
    const starts = probes(tag)
      .map((p) => p.at)
      .sort((a, b) => a - b);
    // A third message starts only once one of the two before it has ended, a second later.
    for (let i = 0; i + 2 < starts.length; i++)
      expect((starts[i + 2] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(900);
  });

  it("with a backlog a second listener starts: twice a batch runs at once, on two instances", async () => {
    await expect.poll(() => probes(WIDE).length, { timeout: 30_000 }).toBe(4);
    const started = probes(WIDE).map((p) => p.at);
    expect(Math.max(...started) - Math.min(...started)).toBeLessThan(2500);
    expect(new Set(probes(WIDE).map((p) => p.pid)).size).toBe(2);
  });

  it("a message sent while a listener's batch runs is taken by another listener, not after the batch", async () => {
    const tag = randomUUID();
    await send(JSON.stringify({ tag, i: 0, sleepMs: 8000 }), "wide-q");
    await expect.poll(() => probes(tag).length, { timeout: 30_000 }).toBe(1);
    const sent = Date.now();
    await send(JSON.stringify({ tag, i: 1 }), "wide-q");
    await expect.poll(() => probes(tag).length, { timeout: 30_000 }).toBe(2);
    expect(probes(tag)[1]?.at ?? 0).toBeLessThan(sent + 6000);
  });

  it("counts its own storage requests", () => {
    expect(host.requests.receive).toBeGreaterThan(0);
    expect(host.requests.delete).toBeGreaterThanOrEqual(4);
    expect(host.requests.poison).toBeGreaterThanOrEqual(2);
  });
});

describe("azure host stand-in: HTTP front (contract)", { timeout: 60_000 }, () => {
  it("a route with authLevel function needs the site's key, in x-functions-key or ?code=; anonymous ones need none", async () => {
    const key = host.keyOf("app1");
    expect((await get("/keyed")).status).toBe(401);
    expect((await get("/keyed", { "x-functions-key": "wrong" })).status).toBe(401);
    const withHeader = await get("/keyed", { "x-functions-key": key });
    expect([withHeader.status, await withHeader.text()]).toEqual([200, "keyed ok"]);
    expect((await get(`/keyed?code=${encodeURIComponent(key)}`)).status).toBe(200);
    expect((await get("/keyed", { "x-functions-key": host.masterKeyOf("app1") })).status).toBe(200);
    expect((await get("/faasade")).status).toBe(404); // faasade's entry takes POST only
    const posted = await fetch(`${host.urlOf("app1")}/faasade`, { method: "POST", body: "{}" });
    expect(posted.status).toBe(401);
  });

  it("routes by template with its parameters; the function sees its URL without the site", async () => {
    const r = await get("/anon/some%20name?q=1");
    expect(r.status).toBe(200);
    const body = (await r.json()) as { name: string; q: string; url: string; fn: string };
    expect(body).toMatchObject({ name: "some name", q: "1", fn: "anon" });
    expect(new URL(body.url).pathname).toBe("/anon/some%20name");
    const unicode = await get("/anon/%E2%9C%93%20ok");
    expect(((await unicode.json()) as { name: string }).name).toBe("\u2713 ok");
    expect((await get("/nowhere")).status).toBe(404);
    expect((await fetch(`${host.urlOf("app1")}/anon/x`, { method: "DELETE" })).status).toBe(404);
    expect((await fetch(`${host.url}/no-such-site/anon/x`)).status).toBe(404);
  });

  it("past the HTTP cap without an answer the caller gets a 504 while the function runs on; the instance keeps serving", async () => {
    const started = Date.now();
    const r = await get("/slow?ms=7000");
    expect(r.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(CAP_MS - 50);
    expect(Date.now() - started).toBeLessThan(6900);
    const quick = await get("/slow?ms=0");
    expect(quick.status).toBe(200);
  });

  it("process.exit in an HTTP function is a 500 for that request; the next request gets a new instance", async () => {
    const r = await get("/quit");
    expect(r.status).toBe(500);
    expect(await r.text()).toMatch(/instance crashed or exited/);
    expect((await get("/anon/again")).status).toBe(200);
  });

  it("running out of memory ends only that instance: a 500, then the next request works", async () => {
    const r = await fetch(`${host.urlOf("small")}/hog`);
    expect(r.status).toBe(500);
    expect(await r.text()).toMatch(/instance crashed or exited/);
    expect((await fetch(`${host.urlOf("small")}/anon/after-oom`)).status).toBe(200);
  });

  it("a request above 100 MB is refused with a 413 before it is read", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${host.urlOf("app1")}/anon/big`);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST" });
      req.setHeader("content-length", String(101 * 1024 * 1024));
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", reject);
      req.write("x");
    });
    expect(status).toBe(413);
  });
});

/** Reads an answer chunk by chunk: its text and when its first chunk came. */
async function timed(r: Response): Promise<{ text: string; firstAt: number; endedAt: number }> {
  const reader = (r.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  let firstAt = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (firstAt === 0) firstAt = Date.now();
    text += decoder.decode(value, { stream: true });
  }
  return { text, firstAt, endedAt: Date.now() };
}

describe("azure host stand-in: faasade's routes through the front (contract)", { timeout: 60_000 }, () => {
  it("a streamed call's lines pass the front as they come", async () => {
    const e = {
      v: 1,
      app: "azure-app",
      env: "main",
      fn: "slowCount",
      inputId: "in-host-stream",
      callId: "fc-host-stream",
      attempt: 1,
      args: Buffer.from(encode([1500], "args")).toString("base64"),
    };
    const r = await fetch(`${host.urlOf("app1")}/faasade`, {
      method: "POST",
      headers: { "x-functions-key": host.keyOf("app1"), accept: "application/x-ndjson" },
      body: JSON.stringify(e),
    });
    expect([r.status, r.headers.get("content-type")]).toEqual([200, "application/x-ndjson"]);
    const { text, firstAt, endedAt } = await timed(r);
    expect(endedAt - firstAt).toBeGreaterThanOrEqual(1000);
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.slice(0, 2).map((l) => decode(Buffer.from(l.c, "base64")))).toEqual([0, 1]);
    expect(lines[2].o.status).toBe("SUCCESS");
  });

  it("a web function takes every other route, anonymously, streamed; faasade's own route still needs the key", async () => {
    const r = await fetch(`${host.urlOf("web1")}/some/path?gap=1500`);
    expect(r.status).toBe(200);
    const { text, firstAt, endedAt } = await timed(r);
    expect(text).toBe("first /some/path\nsecond\n");
    expect(endedAt - firstAt).toBeGreaterThanOrEqual(1000);
    const posted = await fetch(`${host.urlOf("web1")}/echo`, { method: "POST", body: "hi" });
    expect([posted.status, await posted.text()]).toEqual([201, "HI"]);
    expect((await fetch(`${host.urlOf("web1")}/faasade`, { method: "POST", body: "{}" })).status).toBe(401);
  });
});

describe("azure host stand-in: instances (contract)", { timeout: 60_000 }, () => {
  it("always-ready instances are started and kept; without them idle instances are reaped", async () => {
    host.setAlwaysReady("app1", 2);
    await expect.poll(() => host.instances("app1"), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const pids = host.pids("app1");
    await new Promise((r) => setTimeout(r, 3000));
    expect(host.instances("app1")).toBe(2);
    expect(host.pids("app1")).toEqual(pids);
    host.setAlwaysReady("app1", 0);
    await expect.poll(() => host.instances("app1"), { timeout: 10_000 }).toBe(0);
    expect((await get("/anon/cold")).status).toBe(200);
  });
});
