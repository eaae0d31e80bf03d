// A web function over node's http (src/cloud/node-web.ts), on a loopback server: the Web Request it is
// given, its Response streamed back, and the failures (not a Response, a throw, past the timeout).
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { serveWebFunction } from "../src/cloud/node-web.js";
import type { Function_ } from "../src/core/function.js";

type WebFn = (request: Request) => unknown;

/** A stand-in for a web function's handle: its name, its timeout and the function itself. */
const handleOf = (fn: WebFn, timeoutMs = 5000) =>
  ({ definition: () => ({ spec: { name: "page", options: { timeoutMs } } }), getRawF: () => fn }) as unknown as Function_;

let server: Server | undefined;
const stop = () =>
  new Promise((resolve) => {
    server?.closeAllConnections();
    server?.close(resolve) ?? resolve(undefined);
  });
afterEach(async () => {
  await stop();
  server = undefined;
});

async function serve(fn: WebFn, options: { timeoutMs?: number; exposeErrors?: boolean; readBody?: Uint8Array } = {}) {
  server = createServer((req, res) => {
    const url = `http://${req.headers.host}${req.url}`;
    void serveWebFunction(req, res, handleOf(fn, options.timeoutMs), {
      url,
      readBody: options.readBody,
      exposeErrors: options.exposeErrors ?? false,
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("a web function over node's http", () => {
  it("is given the URL, method, headers and a streamed body; its status, headers and body come back", async () => {
    const base = await serve(async (request) => {
      const body = await request.text();
      return new Response(`${request.method} ${new URL(request.url).pathname}${new URL(request.url).search} ${body}`, {
        status: 201,
        headers: [
          ["x-seen", request.headers.get("x-name") ?? ""],
          ["set-cookie", "a=1"],
          ["set-cookie", "b=2"],
        ],
      });
    });
    const answer = await fetch(`${base}/some/path?q=1`, { method: "PUT", headers: { "x-name": "ada" }, body: "hello" });
    expect(answer.status).toBe(201);
    expect(answer.headers.get("x-seen")).toBe("ada");
    expect(answer.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await answer.text()).toBe("PUT /some/path?q=1 hello");
  });

  it("takes a body a framework has read already", async () => {
    const base = await serve(async (request) => new Response(await request.text()), {
      readBody: new TextEncoder().encode("read"),
    });
    expect(await (await fetch(base, { method: "POST", body: "unread" })).text()).toBe("read");
  });

  it("streams: the first chunk arrives before the function has finished", async () => {
    let finished = false;
    const base = await serve(
      () =>
        new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(new TextEncoder().encode("first;"));
              await new Promise((resolve) => setTimeout(resolve, 1500));
              finished = true;
              controller.enqueue(new TextEncoder().encode("last"));
              controller.close();
            },
          }),
        ),
    );
    const reader = (await fetch(base)).body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toBe("first;");
    expect(finished).toBe(false);
    await reader?.cancel();
  });

  it("answers 500 for a throw or a value that is no Response (details only when exposed), 504 past the timeout", async () => {
    let base = await serve(() => {
      throw new Error("secret detail");
    });
    let answer = await fetch(base);
    expect([answer.status, await answer.text()]).toEqual([500, "internal error"]);
    await stop();
    base = await serve(() => "text", { exposeErrors: true });
    answer = await fetch(base);
    expect([answer.status, await answer.text()]).toEqual([500, "a web function must return a Response, got string"]);
    await stop();
    base = await serve(() => new Promise(() => {}), { timeoutMs: 300 });
    answer = await fetch(base);
    expect([answer.status, await answer.text()]).toEqual([504, 'function "page" timed out']);
  });
});
