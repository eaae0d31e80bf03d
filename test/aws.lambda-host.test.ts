// The offline Lambda of startTestBackend("aws"): events run under AWS's own runtime interface
// client (aws-lambda-ric) against the host's Runtime API stand-in, so the `awslambda` global,
// the context and the error documents are AWS's. Also its function URLs.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvokeCommand, InvokeWithResponseStreamCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { Function_, FunctionTimeoutError } from "faasade";
import { startTestBackend } from "faasade/testing";
import { afterAll, describe, expect, it } from "vitest";

const backend = await startTestBackend("aws", { module: new URL("./fixtures/aws-ric-app.mjs", import.meta.url) });
afterAll(() => backend.close());
const fn = <T extends (...args: never[]) => unknown>(name: string) =>
  Function_.fromName<T>("ric-app", name, { provider: backend.provider });
const lambda = new LambdaClient({
  region: "us-east-1",
  endpoint: backend.env.AWS_ENDPOINT_URL_LAMBDA as string,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
afterAll(() => lambda.destroy());
const functionName = (name: string) => `${backend.env.FAASADE_AWS_PREFIX}-main-ric-app-${name}`;

interface LambdaContext {
  requestId: string;
  logStream: string;
  handler: string;
  app: string;
  fn: string;
  custom: string;
}

describe("the offline Lambda runs events under aws-lambda-ric", { timeout: 60_000 }, () => {
  it("the context comes from the runtime interface client: a request id per event, the environment's log stream as the task", async () => {
    const context = fn<() => LambdaContext>("lambdaContext");
    const first = (await context.remote()) as LambdaContext;
    const second = (await context.remote()) as LambdaContext;
    expect(first.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(second.requestId).not.toBe(first.requestId);
    expect(first.logStream).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[1\][0-9a-f]{32}$/);
    expect(first.handler).toBe("index.handler");
    // Deploy's variables and the function's own env reach it, as deploy sets them.
    expect([first.app, first.fn, first.custom]).toEqual(["ric-app", "lambdaContext", "from the function's env"]);

    const call = await context.spawn();
    const ran = (await call.get()) as LambdaContext;
    const graph = await call.getCallGraph();
    expect(graph[0]?.taskId).toBe(ran.logStream);
  });

  it("a generator streams through awslambda.streamifyResponse: values arrive while it still runs", async () => {
    const started = Date.now();
    const arrivals: { value: unknown; at: number }[] = [];
    for await (const value of fn<(n: number, gapMs: number) => AsyncGenerator<unknown>>("slowCount").remoteGen(3, 400)) {
      arrivals.push({ value, at: Date.now() - started });
    }
    expect(arrivals.map((a) => a.value)).toEqual([{ handler: "index.stream", streamify: "function" }, 0, 1, 2]);
    const [first, , , last] = arrivals;
    // The three pauses come after the first value: it was not held back until the end.
    expect((last?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1100);
  });

  it("a function error is AWS's error document, made by the runtime interface client", async () => {
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName("lambdaContext"),
        Qualifier: "live",
        Payload: Buffer.from('{"not":"an envelope"}'),
      }),
    );
    expect(answer.FunctionError).toBe("Unhandled");
    expect(answer.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const doc = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString("utf8"));
    expect(doc.errorType).toBe("InvalidError");
    expect(doc.errorMessage).toMatch(/takes a faasade envelope.*; envelope\.v: expected 1 .*, got undefined/);
    expect(Array.isArray(doc.trace)).toBe(true);
    expect(doc.trace.join("\n")).toMatch(/aws-lambda-ric/);
  });

  it("a streamed function error arrives in the stream's trailers and ends it with InvokeComplete", async () => {
    const answer = await lambda.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: functionName("slowCount"),
        Qualifier: "live",
        Payload: Buffer.from("{}"),
      }),
    );
    const events = [];
    for await (const event of answer.EventStream ?? []) events.push(event);
    const complete = events.find((e) => e.InvokeComplete !== undefined)?.InvokeComplete;
    expect(complete?.ErrorCode).toBe("InvalidError");
    expect(complete?.ErrorDetails).toMatch(/takes a faasade envelope/);
  });

  it("a crash answers a function error, and the next event gets a new environment", async () => {
    await expect(fn<(code: number) => never>("crash").remote(3)).rejects.toThrow(/exited with code 3/);
    const answer = await lambda.send(
      new InvokeCommand({ FunctionName: functionName("crash"), Qualifier: "live", Payload: Buffer.from("{}") }),
    );
    // The environment after the crash answers (here: the handler's own error for a non-envelope event).
    expect(JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString("utf8")).errorType).toBe("InvalidError");
  });

  it("an event past the Lambda timeout ends its environment (Sandbox.Timedout), and the function serves the next", async () => {
    const spin = fn<(ms: number) => string>("spin");
    await expect(spin.remote(5000)).rejects.toBeInstanceOf(FunctionTimeoutError);
    expect(await spin.remote(1)).toBe("finished");
  });
});

describe("function URLs on the offline Lambda", { timeout: 30_000 }, () => {
  it("getWebUrl() answers with the URL the host serves; a POST to it gets the function's Response", async () => {
    const url = await fn("echo").getWebUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/url\//);
    const response = await fetch(new URL("some/path?name=x", url), { method: "POST", body: "hi there" });
    expect(response.status).toBe(202);
    expect(response.headers.get("x-echo")).toBe("yes");
    expect(await response.text()).toBe("POST /some/path?name=x hi there");
  });

  it("GetFunctionUrlConfig answers the URL and its auth type; a function without a URL has none", async () => {
    const { GetFunctionUrlConfigCommand } = await import("@aws-sdk/client-lambda");
    const config = await lambda.send(
      new GetFunctionUrlConfigCommand({ FunctionName: functionName("privateEcho"), Qualifier: "live" }),
    );
    expect(config.AuthType).toBe("AWS_IAM");
    expect(config.FunctionUrl).toBe(await fn("privateEcho").getWebUrl());
    await expect(
      lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: functionName("spin"), Qualifier: "live" })),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(await fn("spin").getWebUrl()).toBeUndefined();
  });

  it("a URL with auth refuses unsigned requests and made-up signatures (valid ones: test/web-auth.test.ts)", async () => {
    const url = (await fn("privateEcho").getWebUrl()) as string;
    expect((await fetch(url, { method: "POST", body: "x" })).status).toBe(403);
    const madeUp = await fetch(url, {
      method: "POST",
      body: "x",
      headers: {
        "x-amz-date": new Date().toISOString().replace(/[-:]|\.\d{3}/g, ""),
        authorization: `AWS4-HMAC-SHA256 Credential=test/${new Date().toISOString().slice(0, 10).replaceAll("-", "")}/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=${"0".repeat(64)}`,
      },
    });
    expect(madeUp.status).toBe(403);
  });
});

describe("an execution environment's init", { timeout: 30_000 }, () => {
  const environmentModule = async () =>
    (await import(
      new URL("../dist/src/testing/aws/environment.js", import.meta.url).href
    )) as typeof import("../src/testing/aws/environment.js");

  /** Runs one event in a fresh environment whose task root holds `index` as its index.mjs. */
  async function firstEvent(index: string, handler: string) {
    const { Environment } = await environmentModule();
    const taskRoot = await mkdtemp(join(tmpdir(), "faasade-init-test-"));
    try {
      await writeFile(join(taskRoot, "index.mjs"), index);
      const env = new Environment({
        functionName: "init-test",
        handler,
        taskRoot,
        ricEntry: createRequire(import.meta.url).resolve("aws-lambda-ric"),
        execArgv: [],
        env: {},
        memoryMb: 128,
        initType: "on-demand",
        region: "us-east-1",
      });
      const exited = new Promise<void>((resolve) => env.onExit(resolve));
      const result = await env.run({ event: "{}", timeoutMs: 5000 });
      await exited;
      return result;
    } finally {
      await rm(taskRoot, { recursive: true, force: true });
    }
  }

  it("a task root that throws on import answers the init error document the runtime posts, and the environment ends", async () => {
    const result = await firstEvent('throw new RangeError("init went wrong");\n', "index.handler");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ errorType: "RangeError", errorMessage: "init went wrong" });
  });

  it("a handler the task root does not export is Runtime.HandlerNotFound", async () => {
    const result = await firstEvent("export const handler = async () => 1;\n", "index.missing");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.errorType).toBe("Runtime.HandlerNotFound");
  });
});
