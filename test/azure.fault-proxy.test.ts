// The Azure fault proxy's wire (src/testing/azure/faults.ts) with the real @azure/storage-blob and
// @azure/storage-queue clients in front of azurite: every Blob and Queue operation faasade uses is
// named by its REST operation, a refusal is Azure Storage's own (a RestError with the status and
// code Azure sends: 503 ServerBusy, 500 InternalError / OperationTimedOut; a HEAD without body),
// Put Message sent twice makes two messages, the copy visible later; a function app's front end
// answers 429 and 503. The proxy is a test double of Azure's failures, not of Azure.
import { type ChildProcess, spawn } from "node:child_process";
import { type IncomingMessage, type Server, createServer, request } from "node:http";
import { type AddressInfo, connect, createServer as createTcpServer } from "node:net";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { type QueueClient, QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type FaultsModule = typeof import("../src/testing/azure/faults.js");
type ClientsModule = typeof import("../src/providers/azure/clients.js");
const { startAzureFaultProxy } = (await import(
  new URL("../dist/src/testing/azure/faults.js", import.meta.url).href
)) as FaultsModule;
const { azureCall } = (await import(new URL("../dist/src/providers/azure/clients.js", import.meta.url).href)) as ClientsModule;
type Proxy = Awaited<ReturnType<FaultsModule["startAzureFaultProxy"]>>;

const ACCOUNT = "devstoreaccount1";
// azurite's well-known development account key (public, documented).
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/** Tried once: a refusal reaches the test as the SDK sees it. */
const ONE_TRY = { retryOptions: { maxTries: 1 } };

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** azurite as a child process (until src/testing/azure/azurite.ts is on main), ready once both ports accept. */
async function startAzurite(): Promise<{ blob: string; queue: string; child: ChildProcess }> {
  const [blobPort, queuePort, tablePort] = [await freePort(), await freePort(), await freePort()];
  const args = ["--silent", "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck"];
  for (const [service, port] of [
    ["blob", blobPort],
    ["queue", queuePort],
    ["table", tablePort],
  ] as const)
    args.push(`--${service}Host`, "127.0.0.1", `--${service}Port`, String(port));
  const child = spawn("node_modules/.bin/azurite", args, { stdio: "ignore" });
  const deadline = Date.now() + 30_000;
  while (!((await accepts(blobPort)) && (await accepts(queuePort)))) {
    if (child.exitCode !== null) throw new Error(`azurite exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error("azurite did not listen within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  return { blob: `http://127.0.0.1:${blobPort}`, queue: `http://127.0.0.1:${queuePort}`, child };
}

const connectionString = (blob: string, queue: string) =>
  `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${blob}/${ACCOUNT};QueueEndpoint=${queue}/${ACCOUNT};`;

/** The error a request ends with (none: undefined). */
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) =>
      err as { statusCode?: number; code?: string; message?: string; name?: string; details?: { errorCode?: string } },
  );

let azurite: Awaited<ReturnType<typeof startAzurite>>;
let blobProxy: Proxy;
let queueProxy: Proxy;
let container: ContainerClient;
let queue: QueueClient;
/** The same, past the proxies: what is really stored. */
let direct: { container: ContainerClient; queue: QueueClient };

beforeAll(async () => {
  azurite = await startAzurite();
  blobProxy = await startAzureFaultProxy(azurite.blob, "blob");
  queueProxy = await startAzureFaultProxy(azurite.queue, "queue");
  const proxied = connectionString(blobProxy.url, queueProxy.url);
  const straight = connectionString(azurite.blob, azurite.queue);
  container = BlobServiceClient.fromConnectionString(proxied, ONE_TRY).getContainerClient("faults");
  queue = QueueServiceClient.fromConnectionString(proxied, ONE_TRY).getQueueClient("faults");
  direct = {
    container: BlobServiceClient.fromConnectionString(straight).getContainerClient("faults"),
    queue: QueueServiceClient.fromConnectionString(straight).getQueueClient("faults"),
  };
  await container.create();
  await queue.create();
}, 60_000);

afterAll(async () => {
  await blobProxy?.close();
  await queueProxy?.close();
  azurite?.child.kill();
});

describe("the Azure fault proxy's wire, with the Azure SDKs and azurite", { timeout: 30_000 }, () => {
  it("forwards Blob and Queue requests unchanged while no fault is on", async () => {
    await container.getBlockBlobClient("results/a.json").upload("{}", 2);
    expect((await container.getBlobClient("results/a.json").downloadToBuffer()).toString()).toBe("{}");
    await queue.sendMessage("aGk=");
    expect((await direct.queue.peekMessages()).peekedMessageItems.map((m) => m.messageText)).toEqual(["aGk="]);
    await direct.queue.clearMessages();
    expect(blobProxy.takeCounts()).toEqual({});
  });

  it("Blob: Put Blob, Get Blob, Get Blob Properties, List Blobs and Delete Blob refused as 503 ServerBusy, each named", async () => {
    await direct.container.getBlockBlobClient("results/b.json").upload("{}", 2);
    blobProxy.refuse({ services: ["blob"], ms: 10_000, kinds: ["throttle", "unavailable"] });
    const blob = container.getBlockBlobClient("results/b.json");
    const failures = [
      await failureOf(blob.upload("{}", 2)),
      await failureOf(blob.download()),
      await failureOf(blob.getProperties()),
      await failureOf(container.listBlobsFlat({ prefix: "results/" }).byPage().next()),
      await failureOf(blob.delete()),
    ];
    blobProxy.clear();
    // The SDK reads a HEAD's code from x-ms-error-code into `details.errorCode` only (no body to read `code` from).
    expect(failures.map((f) => [f?.name, f?.statusCode, f?.details?.errorCode, f?.code])).toEqual([
      ["RestError", 503, "ServerBusy", "ServerBusy"],
      ["RestError", 503, "ServerBusy", "ServerBusy"],
      ["RestError", 503, "ServerBusy", undefined],
      ["RestError", 503, "ServerBusy", "ServerBusy"],
      ["RestError", 503, "ServerBusy", "ServerBusy"],
    ]);
    expect(blobProxy.takeCounts()).toEqual({
      "refused:blob:Put Blob results": 1,
      "refused:blob:Get Blob results": 1,
      "refused:blob:Get Blob Properties results": 1,
      "refused:blob:List Blobs results": 1,
      "refused:blob:Delete Blob results": 1,
    });
    // Nothing reached azurite: the blob is still there, its body unchanged.
    expect((await direct.container.getBlobClient("results/b.json").downloadToBuffer()).toString()).toBe("{}");
  });

  it("a refused HEAD has no body, its code in x-ms-error-code; a refused GET carries Azure's XML error document", async () => {
    blobProxy.refuse({ services: ["blob"], ms: 10_000, kinds: ["unavailable"] });
    const path = `/${ACCOUNT}/faults/results/b.json`;
    const [head, get] = [await raw(blobProxy.url, "HEAD", path), await raw(blobProxy.url, "GET", path)];
    blobProxy.clear();
    expect({ status: head.status, code: head.headers["x-ms-error-code"], body: head.body }).toEqual({
      status: 503,
      code: "ServerBusy",
      body: "",
    });
    expect(get.status).toBe(503);
    expect(get.headers["content-type"]).toBe("application/xml");
    expect(get.body).toMatch(
      /^<\?xml version="1.0" encoding="utf-8"\?><Error><Code>ServerBusy<\/Code><Message>[^<]+<\/Message><\/Error>$/,
    );
    blobProxy.takeCounts();
  });

  it("internal errors: 500 InternalError and 500 OperationTimedOut, in turn", async () => {
    blobProxy.refuse({ services: ["blob"], ops: /^Get Blob /, ms: 10_000, kinds: ["internal"] });
    const blob = container.getBlobClient("results/b.json");
    const codes = [];
    for (let i = 0; i < 2; i++) {
      const failure = await failureOf(blob.download());
      codes.push([failure?.statusCode, failure?.code]);
    }
    blobProxy.clear();
    expect(codes).toEqual([
      [500, "InternalError"],
      [500, "OperationTimedOut"],
    ]);
    expect(blobProxy.takeCounts()).toEqual({ "refused:blob:Get Blob results": 2 });
  });

  it("Queue: Put Message, Get Messages, Peek Messages, Update Message, Delete Message and Get Queue Metadata, each named", async () => {
    await direct.queue.sendMessage("b25l");
    const [held] = (await direct.queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
    if (held === undefined) throw new Error("azurite handed out no message");
    queueProxy.refuse({ services: ["queue"], ms: 10_000, kinds: ["throttle"] });
    const failures = [
      await failureOf(queue.sendMessage("dHdv")),
      await failureOf(queue.receiveMessages()),
      await failureOf(queue.peekMessages()),
      await failureOf(queue.updateMessage(held.messageId, held.popReceipt, "dGhyZWU=", 0)),
      await failureOf(queue.deleteMessage(held.messageId, held.popReceipt)),
      await failureOf(queue.getProperties()),
    ];
    queueProxy.clear();
    for (const failure of failures) expect([failure?.statusCode, failure?.code]).toEqual([503, "ServerBusy"]);
    expect(queueProxy.takeCounts()).toEqual({
      "refused:queue:Put Message": 1,
      "refused:queue:Get Messages": 1,
      "refused:queue:Peek Messages": 1,
      "refused:queue:Update Message": 1,
      "refused:queue:Delete Message": 1,
      "refused:queue:Get Queue Metadata": 1,
    });
    // The refused delete did not reach azurite: the held message is deleted now, by the same receipt.
    await queue.deleteMessage(held.messageId, held.popReceipt);
    expect((await direct.queue.getProperties()).approximateMessagesCount).toBe(0);
  });

  it("faasade's Azure calls see a refusal as passing (ridden through), naming the operation and Azure's code", async () => {
    queueProxy.refuse({ services: ["queue"], ms: 10_000, kinds: ["unavailable"] });
    const failure = await failureOf(azureCall("send a message to queue faults", () => queue.sendMessage("Zm91cg==")));
    queueProxy.clear();
    queueProxy.takeCounts();
    expect(failure?.name).toBe("TransportError");
    expect(failure?.message).toMatch(/^azure send a message to queue faults failed: ServerBusy: /);
  });

  it("Put Message sent twice: two messages, the copy sent 2 s later", async () => {
    queueProxy.duplicateSends({ ms: 10_000, copies: 1, delaySeconds: 2 });
    await queue.sendMessage("ZHVw");
    queueProxy.clear();
    const first = (await direct.queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    expect(first.map((m) => m.messageText)).toEqual(["ZHVw"]);
    const copies = await until(
      async () => (await direct.queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems,
      10_000,
    );
    expect(copies.map((m) => [m.messageText, m.dequeueCount])).toEqual([["ZHVw", 1]]);
    expect(queueProxy.takeCounts()).toEqual({ "duplicated:queue:Put Message": 1 });
    await direct.queue.clearMessages();
  });

  it("a restart: requests are refused while it is down, then the stored blobs are all there", async () => {
    blobProxy.takeCounts();
    const restarted = blobProxy.restart(1500);
    await new Promise((r) => setTimeout(r, 200));
    const failure = await failureOf(container.getBlobClient("results/b.json").download());
    expect(failure?.code).toBe("ECONNREFUSED");
    await restarted;
    expect((await container.getBlobClient("results/b.json").downloadToBuffer()).toString()).toBe("{}");
    expect(blobProxy.takeCounts()).toEqual({ "restart:blob": 1 });
  });
});

describe("the Azure fault proxy in front of a function app", { timeout: 30_000 }, () => {
  let app: Server;
  let front: Proxy;
  beforeAll(async () => {
    app = createServer((req, res) => req.resume().on("end", () => res.end("ok")));
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
    front = await startAzureFaultProxy(`http://127.0.0.1:${(app.address() as AddressInfo).port}`, "functions");
  });
  afterAll(async () => {
    await front?.close();
    await new Promise((r) => app?.close(r));
  });

  it("calls (streamed or not) refused with the front end's 429 and 503; other requests pass", async () => {
    front.refuse({ services: ["functions"], ops: /^(call|stream)$/, ms: 10_000, kinds: ["throttle", "unavailable"] });
    const call = await raw(front.url, "POST", "/faasade", { accept: "application/json" });
    const stream = await raw(front.url, "POST", "/faasade", { accept: "application/x-ndjson" });
    const web = await raw(front.url, "GET", "/hello");
    front.clear();
    expect([call.status, stream.status, web.status]).toEqual([429, 503, 200]);
    expect(call.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(call.body).toContain("429 Too Many Requests");
    expect(web.body).toBe("ok");
    expect(front.takeCounts()).toEqual({ "refused:functions:call": 1, "refused:functions:stream": 1 });
  });
});

/** One request by node:http, its status, headers and body as text. */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }>((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers: { ...headers, "x-ms-version": "2025-01-05" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Polls `read` until it returns a non-empty list, within `ms`. */
async function until<T>(read: () => Promise<T[]>, ms: number): Promise<T[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await read();
    if (got.length > 0 || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 200));
  }
}
