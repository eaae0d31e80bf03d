// A call's AbortSignal on faasade's Lambda client, whose middleware chains are cached
// (src/providers/aws/call-signal.ts): the real SDK against a server on 127.0.0.1 that plays the
// Invoke API. An abort must close that call's connection and no other, and nothing of the signal
// may reach the wire.
import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { withCallSignal } from "../src/providers/aws/call-signal.js";
import { clients } from "../src/providers/aws/clients.js";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
let server: Server | undefined;

/** A Lambda Invoke endpoint: `answer(payload)` says what to do with each call's payload. */
async function lambdaAt(answer: (payload: string, req: IncomingMessage, reply: (body: string) => void) => void) {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () =>
      answer(body, req, (reply) => {
        res.writeHead(200, { "content-type": "application/json", "x-amz-executed-version": "1" });
        res.end(reply);
      }),
    );
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return clients({ region: "us-east-1", credentials, endpoints: { lambda: endpoint } }).lambda();
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

const invoke = (payload: string, signal: AbortSignal) =>
  new InvokeCommand(withCallSignal({ FunctionName: "f", Qualifier: "live", Payload: Buffer.from(payload) }, signal));

describe("aws call signal", () => {
  it("sends only the payload, and answers calls one after another through the cached chain", async () => {
    const seen: string[] = [];
    const lambda = await lambdaAt((payload, _req, reply) => {
      seen.push(payload);
      reply(JSON.stringify({ echo: payload }));
    });
    for (const p of ["a", "b", "c"]) {
      const out = await lambda.send(invoke(p, new AbortController().signal));
      expect(JSON.parse(Buffer.from(out.Payload ?? []).toString())).toEqual({ echo: p });
    }
    expect(seen).toEqual(["a", "b", "c"]);
  });

  it("an abort rejects its call and closes its connection, while another call in flight answers", async () => {
    const closed: string[] = [];
    const held: (() => void)[] = [];
    const lambda = await lambdaAt((payload, req, reply) => {
      req.socket.on("close", () => closed.push(payload));
      held.push(() => reply(JSON.stringify({ echo: payload })));
    });
    const cancelled = new AbortController();
    const doomed = lambda.send(invoke("doomed", cancelled.signal));
    const kept = lambda.send(invoke("kept", new AbortController().signal));
    await expect.poll(() => held.length).toBe(2);
    cancelled.abort();
    await expect(doomed).rejects.toMatchObject({ name: "AbortError" });
    await expect.poll(() => closed).toEqual(["doomed"]);
    for (const reply of held) reply();
    const out = await kept;
    expect(JSON.parse(Buffer.from(out.Payload ?? []).toString())).toEqual({ echo: "kept" });
  });

  it("a signal aborted before the send rejects it without a request", async () => {
    let requests = 0;
    const lambda = await lambdaAt((_p, _r, reply) => {
      requests++;
      reply("{}");
    });
    const controller = new AbortController();
    controller.abort();
    await expect(lambda.send(invoke("x", controller.signal))).rejects.toMatchObject({ name: "AbortError" });
    expect(requests).toBe(0);
  });
});
