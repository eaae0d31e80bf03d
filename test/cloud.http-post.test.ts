// The HTTPS invoker's POST over node:http (src/cloud/http-post.ts), against a real server on
// 127.0.0.1: what it sends, that its connections are kept and reused, and each way an answer can fail.
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { post, readText } from "../src/cloud/http-post.js";

let server: Server | undefined;

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/fn`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

const never = new AbortController().signal;

describe("cloud http-post", () => {
  it("POSTs the body with its headers and length, and reads the answer's text (multi-byte characters split across chunks)", async () => {
    const url = await serve((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const answer = Buffer.from(
          JSON.stringify({ body, auth: req.headers.authorization, length: req.headers["content-length"], method: req.method }),
        );
        const inside = answer.indexOf(Buffer.from("é")) + 1; // between the two bytes of "é"
        res.write(answer.subarray(0, inside));
        setTimeout(() => res.end(answer.subarray(inside)), 10);
      });
    });
    const res = await post(url, { authorization: "Bearer t", "content-type": "application/json" }, '{"é":"ü"}', never);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(await readText(res))).toEqual({ body: '{"é":"ü"}', auth: "Bearer t", length: "11", method: "POST" });
  });

  it("reuses one kept-alive connection for calls one after another", async () => {
    const ports = new Set<number>();
    const url = await serve((req, res) => {
      ports.add(req.socket.remotePort as number);
      res.end("ok");
    });
    for (let i = 0; i < 5; i++) expect(await readText(await post(url, {}, "x", never))).toBe("ok");
    expect(ports.size).toBe(1);
  });

  it("an answer cut off before its end rejects its read", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      setTimeout(() => res.socket?.destroy(), 10);
    });
    const res = await post(url, {}, "x", never);
    await expect(readText(res)).rejects.toThrow();
  });

  it("a refused connection rejects with the socket's code", async () => {
    const url = await serve((_req, res) => res.end());
    server?.close();
    await new Promise((r) => setTimeout(r, 10));
    await expect(post(url, {}, "x", never)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("an abort while the function runs rejects the POST and closes its connection", async () => {
    let closed = false;
    const url = await serve((req) => req.socket.on("close", () => (closed = true)));
    const controller = new AbortController();
    const answer = post(url, {}, "x", controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(answer).rejects.toMatchObject({ name: "AbortError" });
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(true);
  });
});
