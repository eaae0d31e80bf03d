// A local deployment server takes malformed requests one at a time: each is answered (4xx for bad
// input, 500 for a failure of the server's own) and the server goes on serving the next one.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pack } from "../dist/src/providers/local/deploy/wire.js";
import { type Deployment, errorOf, rawRequest, requestBytes, startDeployment } from "./fixtures/deploy-harness.js";

let d: Deployment;
const WEB_LIMIT = 64 * 1024;
beforeAll(async () => {
  d = await startDeployment({ maxBodyBytes: WEB_LIMIT });
});
afterAll(() => d?.close());

const auth = () => ({ authorization: `Bearer ${d.token()}` });
const get = (path: string, headers: Record<string, string> = auth()) =>
  rawRequest(d.port, requestBytes("GET", path, { headers }));
const post = (path: string, body: Buffer | string, headers: Record<string, string> = {}) =>
  rawRequest(
    d.port,
    requestBytes("POST", path, { headers: { ...auth(), "content-type": "application/cbor", ...headers }, body }),
  );
const stillServes = async () => {
  expect((await get("/v1/health")).status).toBe(200);
  expect(await d.square.remote(7)).toBe(49);
};
const FN = "/v1/fn/main/hardening-app/square";

describe("malformed percent-encoding", () => {
  it.each(["/%00%ff/x", "/v1/fn/%E0%A4%A/x/y", "/v1/calls/%zz", "/v1/%"])("GET %s is a 400 naming the segment", async (path) => {
    const answer = await get(path);
    expect(answer.status).toBe(400);
    expect(await errorOf(answer)).toMatch(/malformed percent-encoding in path segment ".*%/);
    await stillServes();
  });

  it("is refused with 401 before anything else without the token", async () => {
    expect((await get("/%00%ff/x", {})).status).toBe(401);
  });

  it("in a web path is a 400 in text", async () => {
    const answer = await rawRequest(d.port, requestBytes("POST", "/web/main/hardening-app/%E0%A4%A", { body: "x" }));
    expect(answer.status).toBe(400);
    expect(answer.body.toString()).toMatch(/malformed percent-encoding/);
    await stillServes();
  });

  it("a malformed request target is a 400", async () => {
    const answer = await rawRequest(d.port, "GET //[ HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    expect(answer.status).toBe(400);
    await stillServes();
  });
});

describe("bodies that are not what the route takes", () => {
  it("random bytes are a 400 saying the body is not CBOR", async () => {
    const answer = await post(`${FN}/run`, Buffer.from([0xff, 0x00, 0x1c, 0x9b]));
    expect(answer.status).toBe(400);
    expect(await errorOf(answer)).toMatch(/not valid CBOR/);
  });

  it("an empty body is a 400", async () => {
    const answer = await post(`${FN}/spawn`, "");
    expect(answer.status).toBe(400);
    expect(await errorOf(answer)).toMatch(/request body is empty/);
  });

  it.each([100, 100_000])("arrays nested %i deep are a 400, not a stack overflow", async (depth) => {
    const nested = Buffer.alloc(depth + 1, 0x81);
    nested[depth] = 0x01;
    const answer = await post(`${FN}/run`, nested);
    expect(answer.status).toBe(400);
    expect(await errorOf(answer)).toMatch(/nests deeper than 64 levels/);
    await stillServes();
  });

  it("a manifest of the wrong shape is a 400 naming the field", async () => {
    const bad = {
      app: "x-app",
      environment: "main",
      functions: [{ name: "f", module: "m.mjs", isGenerator: "no", options: {} }],
    };
    const answer = await post("/v1/apps", pack(bad));
    expect(answer.status).toBe(400);
    expect(await errorOf(answer)).toBe('manifest.functions[0].isGenerator: expected a boolean, got "no"');
    const opts = {
      app: "x-app",
      environment: "main",
      functions: [
        { name: "f", module: "m.mjs", isGenerator: false, options: { name: "f", retries: { maxRetries: 0 }, timeoutMs: -1 } },
      ],
    };
    const answer2 = await post("/v1/apps", pack(opts));
    expect(answer2.status).toBe(400);
    expect(await errorOf(answer2)).toMatch(
      /manifest\.functions\[0\]\.options: .*timeoutMs must be an integer between 1000 and 86400000, got -1/,
    );
  });

  it("an abort, cancel or autoscaler body of the wrong type is a 400 naming the field", async () => {
    const abort = await post(`${FN}/abort`, pack({ inputIds: "in-1" }));
    expect(abort.status).toBe(400);
    expect(await errorOf(abort)).toBe('abort.inputIds: expected an array of input ids, got "in-1"');
    const scaler = await post(`${FN}/autoscaler`, pack([1, 2]));
    expect(scaler.status).toBe(400);
    expect(await errorOf(scaler)).toBe("autoscaler: expected an object, got array(2)");
    const spawn = await post(
      `${FN}/spawn`,
      pack({ input: { inputId: "in-1", callId: "fc-1", attempt: 0, args: new Uint8Array() } }),
    );
    expect(spawn.status).toBe(400);
    expect(await errorOf(spawn)).toMatch(/input: attempt must be an integer ≥ 1, got 0/);
  });
});

describe("clients that go away mid-request", () => {
  it.each([`${FN}/run`, "/v1/apps", "/web/main/hardening-app/echo"])(
    "a body cut off on %s leaves the server serving",
    async (path) => {
      const head = requestBytes("POST", path, { headers: { ...auth(), "content-length": "100000" } });
      await rawRequest(d.port, Buffer.concat([head, Buffer.alloc(1000, 1)]), { cut: true });
      await new Promise((r) => setTimeout(r, 50));
      await stillServes();
    },
  );

  it("a client that leaves while its input runs leaves the server serving", async () => {
    const body = pack({ inputs: [{ inputId: "in-gone-1", callId: "fc-gone-1", attempt: 1, args: new Uint8Array([0x80]) }] });
    await rawRequest(d.port, requestBytes("POST", `${FN}/run`, { headers: auth(), body }), { cut: true });
    await stillServes();
  });
});

describe("size limits", () => {
  it("a control body over 1 MiB (a manifest) is a 413", async () => {
    const answer = await post("/v1/apps", Buffer.alloc(1024 * 1024 + 1, 0x61));
    expect(answer.status).toBe(413);
    expect(await errorOf(answer)).toBe("request body of 1048577 bytes is over the limit of 1048576 bytes");
  });

  it("a body whose declared length is over the inputs limit (256 MiB) is a 413 before it is sent", async () => {
    const head = requestBytes("POST", `${FN}/run`, { headers: { ...auth(), "content-length": String(300 * 1024 * 1024) } });
    const answer = await rawRequest(d.port, Buffer.concat([head, Buffer.alloc(10)]));
    expect(answer.status).toBe(413);
    expect(await errorOf(answer)).toMatch(/over the limit of 268435456 bytes/);
  });

  it("a chunked manifest body over 1 MiB is a 413 too", async () => {
    const head = requestBytes("POST", "/v1/apps", {
      headers: { ...auth(), "content-length": "", "transfer-encoding": "chunked" },
    });
    const chunk = Buffer.alloc(512 * 1024, 0x61);
    const chunks = [0, 1, 2].map(() =>
      Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]),
    );
    const answer = await rawRequest(d.port, Buffer.concat([head, ...chunks, Buffer.from("0\r\n\r\n")]));
    expect(answer.status).toBe(413);
  });

  it("a web body over the server's web limit is a 413; one at the limit is served", async () => {
    const over = await rawRequest(
      d.port,
      requestBytes("POST", "/web/main/hardening-app/echo", { body: Buffer.alloc(WEB_LIMIT + 1) }),
    );
    expect(over.status).toBe(413);
    const at = await rawRequest(d.port, requestBytes("POST", "/web/main/hardening-app/echo", { body: Buffer.alloc(WEB_LIMIT) }));
    expect(at.status).toBe(200);
    expect(JSON.parse(at.body.toString()).bytes).toBe(WEB_LIMIT);
  });

  it("headers over node's 16 KiB are a 431", async () => {
    const answer = await get("/v1/health", { ...auth(), "x-big": "a".repeat(20_000) });
    expect(answer.status).toBe(431);
    await stillServes();
  });

  it("the server listens on 127.0.0.1 only", async () => {
    const reached = await new Promise<string>((resolve) => {
      const socket = connect(d.port, "127.0.0.2");
      socket.on("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    });
    expect(reached).toBe("ECONNREFUSED");
  });
});

describe("web endpoints with web: { auth: true }", () => {
  it("refuse a request without the deployment token with 401", async () => {
    const answer = await rawRequest(d.port, requestBytes("GET", "/web/main/hardening-app/secret"));
    expect(answer.status).toBe(401);
    const wrong = await rawRequest(
      d.port,
      requestBytes("GET", "/web/main/hardening-app/secret", { headers: { authorization: "Bearer nope" } }),
    );
    expect(wrong.status).toBe(401);
  });

  it("serve one with it, and the function does not see the token", async () => {
    const answer = await rawRequest(d.port, requestBytes("GET", "/web/main/hardening-app/secret", { headers: auth() }));
    expect(answer.status).toBe(200);
    const { headers } = JSON.parse(answer.body.toString()) as { headers: string[] };
    expect(headers).toContain("host");
    expect(headers).not.toContain("authorization");
  });
});
