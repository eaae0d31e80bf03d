// The GCP runtime served by the real functions-framework: through the function host (one process
// per instance) and the HTTP invoker for calls and web requests. Its Cloud Tasks deliveries:
// test/gcp.runtime-deliveries.test.ts.
import type { AddressInfo } from "node:net";
import { FunctionTimeoutError, RemoteError, UserCodeError, decode, encode } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invokePath } from "../dist/src/cloud/invoke-path.js";
import type { ObjectStore } from "../dist/src/cloud/primitives.js";
import { outcomeError, unwrap } from "../dist/src/core/outcome.js";
import type { FunctionSpec, Input, Outcome } from "../dist/src/core/provider.js";
import { gcpInvoker } from "../dist/src/providers/gcp/invoker.js";
import { type FunctionHost, startFunctionHost } from "../dist/src/testing/gcp/function-host.js";
import { idTokenDouble } from "../dist/src/testing/gcp/id-tokens.js";
import * as fixture from "./fixtures/gcp-app.mjs";
import { memoryStore } from "./fixtures/gcp-doubles.mjs";

process.env.METADATA_SERVER_DETECTION = "none";

const APP = new URL("./fixtures/gcp-app.mjs", import.meta.url).href;
const BROKEN = new URL("./fixtures/gcp-broken-app.mjs", import.meta.url).href;
const PLATFORM = new URL("./fixtures/gcp-doubles.mjs", import.meta.url).href;
const tokens = idTokenDouble();
let host: FunctionHost;

beforeAll(async () => {
  host = await startFunctionHost({
    functions: {
      calls: { module: APP, maxInstances: 2, maxInputs: 4 },
      broken: { module: BROKEN },
      web: { module: APP, public: true, env: { FAASADE_APP: "gcp-app", FAASADE_ENVIRONMENT: "main", FAASADE_FUNCTION: "page" } },
      warm: { module: APP, minInstances: 2, maxInstances: 3 },
      small: { module: APP, memoryMb: 64, timeoutMs: 1500 },
      pool: { module: APP, maxInstances: 2, maxInputs: 2 },
    },
    verify: (token, audience) => tokens.verify(token, audience),
    platform: PLATFORM,
  });
}, 30_000);
afterAll(() => host?.close());

const specOf = (f: { definition(): { spec: FunctionSpec } }) => f.definition().spec;
/** Calls through the cloud layer's invoke path, as `remote` does, on the host's function `route`. */
function caller(route: string) {
  const invoker = gcpInvoker({ urlOf: () => host.urlOf(route), idToken: (audience) => tokens.idToken(audience) });
  const path = invokePath(invoker, 8);
  const app = { store: memoryStore() as ObjectStore, ref: { name: "bucket", prefix: "" } };
  let n = 0;
  return {
    /** The outcome of one input, and the values it yielded, in order. */
    run(fn: FunctionSpec, args: unknown[]): Promise<{ outcome: Outcome; chunks: { value: unknown; at: number }[] }> {
      const id = `${Date.now()}-${++n}`;
      const input: Input = { inputId: `in-t-${id}`, callId: `fc-t-${id}`, attempt: 1, args: encode(args, "args") };
      const chunks: { value: unknown; at: number }[] = [];
      return new Promise((resolve) =>
        path.submit(fn, app, input, {
          outcome: (_input, outcome) => resolve({ outcome, chunks }),
          chunk: (_input, _attempt, value) => chunks.push({ value: decode(value), at: Date.now() }),
        }),
      );
    },
  };
}

describe("gcp runtime: calls through the function host and the HTTP invoker", () => {
  it("a sync call answers its value", async () => {
    const { outcome } = await caller("calls").run(specOf(fixture.square), [9]);
    expect(outcome.status).toBe("SUCCESS");
    expect(unwrap("square", outcome)).toBe(81);
    expect(outcome.taskId).toMatch(/^calls-00001\//);
  });

  it("a generator streams: the first value arrives long before the generator ends", async () => {
    const started = Date.now();
    const { outcome, chunks } = await caller("calls").run(specOf(fixture.slowCount), [2000]);
    const ended = Date.now();
    expect(outcome.status).toBe("SUCCESS");
    expect(chunks.map((c) => c.value)).toEqual([0, 1]);
    expect(ended - started).toBeGreaterThanOrEqual(1900);
    expect(ended - (chunks[0]?.at ?? ended)).toBeGreaterThanOrEqual(1000);
  });

  it("a user error is a FAILURE carrying the error: UserCodeError for the caller", async () => {
    const { outcome } = await caller("calls").run(specOf(fixture.fail), ["bad input"]);
    expect(outcome).toMatchObject({ status: "FAILURE", userError: true });
    const err = outcomeError("fail", outcome);
    expect(err).toBeInstanceOf(UserCodeError);
    expect((err as Error).cause).toBeInstanceOf(RangeError);
    expect(((err as Error).cause as Error).message).toBe("bad input");
  });

  it("a module that fails to import answers INIT_FAILURE, and its instance keeps serving", async () => {
    const c = caller("broken");
    for (let i = 0; i < 2; i++) {
      const { outcome } = await c.run(specOf(fixture.square), [1]);
      expect(outcome.status).toBe("INIT_FAILURE");
      expect(outcome.message).toMatch(/failed to import: gcp-broken-app: a dependency is missing/);
      expect(outcomeError("square", outcome)).toBeInstanceOf(RemoteError);
    }
    expect(host.instances("broken")).toBe(1);
  });

  it("process.exit in user code is a RemoteError naming the code, and the next call gets a new instance", async () => {
    const c = caller("calls");
    const before = (await c.run(specOf(fixture.pid), [])).outcome;
    const { outcome } = await c.run(specOf(fixture.exits), [3]);
    expect(outcome.status).toBe("FAILURE");
    const err = outcomeError("exits", outcome);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as Error).message).toMatch(/instance exited with code 3 while running "exits"/);
    const after = (await c.run(specOf(fixture.pid), [])).outcome;
    expect(after.status).toBe("SUCCESS");
    expect(unwrap("pid", after)).not.toBe(unwrap("pid", before));
    expect(host.pids("calls")).not.toContain(unwrap("pid", before));
  });

  it("an uncaught exception outside the input crashes the instance: RemoteError, then the next call works", async () => {
    const c = caller("calls");
    const { outcome } = await c.run(specOf(fixture.crashes), []);
    expect(outcomeError("crashes", outcome)).toBeInstanceOf(RemoteError);
    expect(outcome.message).toMatch(/instance crashed or exited/);
    const next = await c.run(specOf(fixture.square), [5]);
    expect(unwrap("square", next.outcome)).toBe(25);
  });

  it("running out of memory ends only that instance: RemoteError, then the next call works", async () => {
    const c = caller("small");
    const { outcome } = await c.run(specOf(fixture.hog), []);
    expect(outcomeError("hog", outcome)).toBeInstanceOf(RemoteError);
    expect(outcome.message).toMatch(/instance crashed or exited/);
    expect(unwrap("square", (await c.run(specOf(fixture.square), [4])).outcome)).toBe(16);
  }, 30_000);

  it("past the platform's request timeout the caller gets a 504: TIMEOUT, a FunctionTimeoutError", async () => {
    const { outcome } = await caller("small").run(specOf(fixture.sleeps), [10_000]);
    expect(outcome.status).toBe("TIMEOUT");
    expect(outcomeError("sleeps", outcome)).toBeInstanceOf(FunctionTimeoutError);
  });

  it("without an ID token the host answers 401; with a forged or misaddressed one, 403", async () => {
    const url = host.urlOf("calls");
    const body = JSON.stringify({ v: 1 });
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    expect((await post({})).status).toBe(401);
    const other = await idTokenDouble().idToken(url);
    expect((await post({ authorization: `Bearer ${other}` })).status).toBe(403);
    const elsewhere = await tokens.idToken(host.urlOf("broken"));
    expect((await post({ authorization: `Bearer ${elsewhere}` })).status).toBe(403);
    // a body that is no envelope never reaches user code: a 400 naming the field, an InvalidError for the caller
    const good = gcpInvoker({ urlOf: () => url, idToken: (audience) => tokens.idToken(audience) });
    await expect(good.call(specOf(fixture.square), body, new AbortController().signal)).rejects.toMatchObject({
      name: "InvalidError",
      message: expect.stringMatching(/answered 400: faasade: the request's envelope\.app: expected a string/),
    });
    // and the invoker reports it as the refusal it is, naming the role
    const invoker = gcpInvoker({ urlOf: () => url, idToken: async () => other });
    await expect(invoker.call(specOf(fixture.square), body, new AbortController().signal)).rejects.toThrow(/roles\/run\.invoker/);
  });

  it("requests spread over at most maxInstances instances of maxInputs each; one more waits for a free slot", async () => {
    const c = caller("pool");
    const started = Date.now();
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => c.run(specOf(fixture.napPid), [1000])));
    const pids = outcomes.map(({ outcome }) => unwrap("napPid", outcome) as number);
    const perInstance = [...new Set(pids)].map((p) => pids.filter((q) => q === p).length).sort();
    expect(perInstance).toEqual([2, 3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(host.instances("pool")).toBe(2);
  }, 30_000);

  it("min instances are kept running and replaced when one dies", async () => {
    await expect.poll(() => host.instances("warm"), { timeout: 15_000 }).toBe(2);
    const [first] = host.pids("warm");
    process.kill(first as number, "SIGKILL");
    await expect.poll(() => host.pids("warm").includes(first as number), { timeout: 15_000 }).toBe(false);
    await expect.poll(() => host.instances("warm"), { timeout: 15_000 }).toBe(2);
  });
});

describe("gcp runtime: a web function", () => {
  it("a GET streams its Response: the first part arrives before the function has finished", async () => {
    const started = Date.now();
    const response = await fetch(`${host.urlOf("web")}/some/path?gap=1500`);
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const firstAt = Date.now();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(first).toBe("first /some/path\n");
    expect(rest).toBe("second\n");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(900);
  });

  it("a POST gets its body, parsed by functions-framework or streamed in, and the function's status and headers", async () => {
    const typed = await fetch(host.urlOf("web"), { method: "POST", headers: { "content-type": "text/plain" }, body: "ada" });
    expect(typed.status).toBe(201);
    expect(typed.headers.get("x-app")).toBe("gcp");
    expect(await typed.text()).toBe("ADA");
    const parts = ["lovelace ", "and ", "babbage"];
    const streamed = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = parts.shift();
        if (next === undefined) return controller.close();
        await new Promise((r) => setTimeout(r, 50));
        controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const answer = await fetch(host.urlOf("web"), { method: "POST", body: streamed, duplex: "half" } as RequestInit);
    expect(answer.status).toBe(201);
    expect(await answer.text()).toBe("LOVELACE AND BABBAGE");
  });

  it("an envelope POSTed to a public web function is a web request, never a call", async () => {
    const envelope = { v: 1, app: "gcp-app", env: "main", fn: "square", inputId: "in-x", callId: "fc-x", attempt: 1, args: "" };
    const r = await fetch(host.urlOf("web"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(envelope),
    });
    expect(r.status).toBe(201);
    expect(await r.text()).toBe(JSON.stringify(envelope).toUpperCase());
  });
});

describe("gcp http invoker (contract, against a loopback stub standing in for Cloud Functions' front end)", () => {
  /** A stub that answers each POST with the next of `answers` (a status, or a function of the response). */
  async function stub(answers: (number | ((res: import("node:http").ServerResponse) => void))[], port = 0) {
    const { createServer } = await import("node:http");
    const seen: { authorization: string | undefined; accept: string | undefined }[] = [];
    const server = createServer((req, res) => {
      seen.push({ authorization: req.headers.authorization, accept: req.headers.accept });
      req.resume();
      req.on("end", () => {
        const next = answers.shift() ?? 200;
        if (typeof next === "function") return next(res);
        res.writeHead(next, { "content-type": "application/json" }).end(next === 200 ? '{"v":1,"status":"SUCCESS"}' : "busy");
      });
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fn`;
    return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
  }
  const spec = () => specOf(fixture.square);
  const signal = () => new AbortController().signal;
  const invokerFor = (url: string) => gcpInvoker({ urlOf: () => url, idToken: async (audience) => `token-for ${audience}` });

  it("sends the ID token for the function's URL; 429 and 503 are ridden through; a 500 is a crash, not retried", async () => {
    const s = await stub([429, 503, 200, 500]);
    try {
      const invoker = invokerFor(s.url);
      expect(await invoker.call(spec(), "{}", signal())).toEqual({ text: '{"v":1,"status":"SUCCESS"}' });
      expect(s.seen.map((r) => r.authorization)).toEqual(Array(3).fill(`Bearer token-for ${s.url}`));
      const crashed = await invoker.call(spec(), "{}", signal());
      expect(crashed).toEqual({
        failure: { status: "FAILURE", message: expect.stringMatching(/instance crashed or exited.*HTTP 500/) },
      });
      expect(s.seen).toHaveLength(4);
    } finally {
      await s.close();
    }
  });

  it("a refused connection is ridden through until the function's server listens", async () => {
    const probe = await stub([]);
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const invoker = invokerFor(probe.url);
    const pending = invoker.call(spec(), "{}", signal());
    await new Promise((r) => setTimeout(r, 400));
    const s = await stub([200], port);
    try {
      expect(await pending).toEqual({ text: '{"v":1,"status":"SUCCESS"}' });
    } finally {
      await s.close();
    }
  });

  it("a stream cut off after its first line delivers that line, then reports the crash", async () => {
    const s = await stub([
      (res) => {
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        res.write('{"c":"AQ=="}\n');
        setTimeout(() => res.destroy(), 100);
      },
    ]);
    try {
      const lines: string[] = [];
      const failure = await invokerFor(s.url).stream(spec(), "{}", signal(), (l) => lines.push(l));
      expect(lines).toEqual(['{"c":"AQ=="}']);
      expect(failure).toMatchObject({ status: "FAILURE", message: expect.stringMatching(/instance crashed or exited/) });
      expect(s.seen[0]?.accept).toBe("application/x-ndjson");
    } finally {
      await s.close();
    }
  });
});
