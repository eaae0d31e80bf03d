// startTestBackend("aws") as users start it: options checked up front, retentionMs passed on,
// several backends in one process, TypeScript app modules, optional packages named when missing.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { FunctionCall, Function_, InvalidError, NotFoundError } from "faasade";
import { startTestBackend } from "faasade/testing";
import { describe, expect, it } from "vitest";

const awsApp = new URL("./fixtures/aws-app.mjs", import.meta.url);
const ricApp = new URL("./fixtures/aws-ric-app.mjs", import.meta.url);
const tsApp = new URL("./fixtures/aws-ts-app.ts", import.meta.url);
type Backend = Awaited<ReturnType<typeof startTestBackend>>;

/** Runs `body` with backends started from `modules`, closing them whatever happens. */
async function withBackends(
  starts: Parameters<typeof startTestBackend>[1][],
  body: (backends: Backend[]) => Promise<void>,
): Promise<void> {
  const backends: Backend[] = [];
  try {
    for (const options of starts) backends.push(await startTestBackend("aws", options));
    await body(backends);
  } finally {
    await Promise.all(backends.map((b) => b.close()));
  }
}

const square = (b: Backend) => Function_.fromName<(x: number) => number>("aws-app", "square", { provider: b.provider });

describe("startTestBackend options", () => {
  it.each([
    [{ module: "app.mjs", retentionMs: -1 }, /retentionMs must be .* got -1$/],
    [{ module: "app.mjs", retentionMs: 0 }, /retentionMs must be .* got 0$/],
    [{ module: "app.mjs", retentionMs: 1.5 }, /retentionMs must be .* got 1\.5$/],
    [{ module: "app.mjs", retentionMs: "7d" }, /retentionMs must be .* got "7d"$/],
    [{ module: 42 }, /module must be a path or URL, got 42$/],
    [{ module: "" }, /module must be a path or URL, got ""$/],
    [{ module: "app.mjs", retention: 5 }, /unknown option "retention"/],
    [null, /expected \{ module, retentionMs\? \}, got null$/],
  ])("%o is InvalidError quoting the bad value, before anything starts", async (options, message) => {
    const started = startTestBackend("aws", options as never);
    await expect(started).rejects.toBeInstanceOf(InvalidError);
    await expect(started).rejects.toThrow(message);
  });

  it("a provider without an offline backend is InvalidError", async () => {
    await expect(startTestBackend("nimbus", { module: awsApp })).rejects.toThrow(/no offline backend for provider "nimbus"/);
  });

  it("retentionMs reaches env and the provider: a spawned result is stored to expire that long after it finished", {
    timeout: 60_000,
  }, async () => {
    await withBackends([{ module: awsApp, retentionMs: 60_000 }, { module: awsApp }], async ([short, byDefault]) => {
      if (short === undefined || byDefault === undefined) throw new Error("backends did not start");
      expect(short.env.FAASADE_AWS_RETENTION_MS).toBe("60000");
      expect(byDefault.env.FAASADE_AWS_RETENTION_MS).toBe(String(7 * 24 * 3600 * 1000));
      const call = await square(short).spawn(4);
      expect(await call.get()).toBe(16);
      const s3 = new S3Client({
        region: "us-east-1",
        endpoint: short.env.AWS_ENDPOINT_URL_S3 as string,
        forcePathStyle: true,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      });
      const got = await s3.send(
        new GetObjectCommand({ Bucket: `${short.env.FAASADE_AWS_PREFIX}-main-aws-app`, Key: `results/${call.objectId}.json` }),
      );
      const stored = JSON.parse((await got.Body?.transformToString()) ?? "{}") as { finishedAt: number; expiresAt: number };
      expect(stored.expiresAt - stored.finishedAt).toBe(60_000);
      s3.destroy();
    });
  });
});

describe("several backends in one process", { timeout: 90_000 }, () => {
  it("two backends, each serving its own app: each has its own resources, and calls do not cross", async () => {
    await withBackends([{ module: awsApp }, { module: ricApp }], async ([a, b]) => {
      if (a === undefined || b === undefined) throw new Error("backends did not start");
      expect(a.env.FAASADE_AWS_PREFIX).not.toBe(b.env.FAASADE_AWS_PREFIX);
      expect(a.env.AWS_ENDPOINT_URL_LAMBDA).not.toBe(b.env.AWS_ENDPOINT_URL_LAMBDA);
      const context = Function_.fromName<() => { app: string }>("ric-app", "lambdaContext", { provider: b.provider });
      const [squared, ran] = await Promise.all([square(a).remote(9), context.remote()]);
      expect(squared).toBe(81);
      expect((ran as { app: string }).app).toBe("ric-app");
      await expect(square(b).remote(9)).rejects.toBeInstanceOf(NotFoundError);
      await expect(Function_.fromName("ric-app", "lambdaContext", { provider: a.provider }).remote()).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });
  });

  it("two backends of the same app keep their calls apart", async () => {
    await withBackends([{ module: awsApp }, { module: awsApp }], async ([a, b]) => {
      if (a === undefined || b === undefined) throw new Error("backends did not start");
      const [onA, onB] = await Promise.all([square(a).spawn(5), square(b).spawn(6)]);
      expect(await Promise.all([onA.get(), onB.get()])).toEqual([25, 36]);
      expect(await FunctionCall.fromId(onA.objectId, { provider: a.provider }).get()).toBe(25);
      await expect(FunctionCall.fromId(onA.objectId, { provider: b.provider }).get()).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});

describe("TypeScript app modules", { timeout: 90_000 }, () => {
  it("a .ts module defines the backend's app, and its Lambda environments run it (with tsx)", async () => {
    await withBackends([{ module: tsApp }], async ([backend]) => {
      if (backend === undefined) throw new Error("backend did not start");
      const greet = Function_.fromName<(name: string) => unknown>("aws-ts-app", "greet", { provider: backend.provider });
      expect(await greet.remote("ts")).toEqual({ text: "hello ts", runtime: "index.handler" });
      const values: unknown[] = [];
      const countTo = Function_.fromName<(n: number) => Generator<number>>("aws-ts-app", "countTo", {
        provider: backend.provider,
      });
      for await (const v of countTo.remoteGen(3)) values.push(v);
      expect(values).toEqual([1, 2, 3]);
    });
  });

  it("in plain node, where no tsx is registered, the backend imports a .ts module through tsx itself", async () => {
    const script = [
      'import { Function } from "faasade";',
      'import { startTestBackend } from "faasade/testing";',
      'const backend = await startTestBackend("aws", { module: process.argv[1] });',
      'const greet = Function.fromName("aws-ts-app", "greet", { provider: backend.provider });',
      "try { console.log(JSON.stringify(await greet.remote('node'))); } finally { await backend.close(); }",
    ].join("\n");
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script, tsApp.href], {
      env: process.env,
    });
    expect(JSON.parse(stdout.trim().split("\n").pop() ?? "null")).toEqual({ text: "hello node", runtime: "index.handler" });
  });
});

describe("optional packages", () => {
  const optional = async () =>
    (await import(
      new URL("../dist/src/testing/aws/optional.js", import.meta.url).href
    )) as typeof import("../src/testing/aws/optional.js");

  it("a package that is not installed is ExecutionError naming what to install", async () => {
    const { need } = await optional();
    await expect(need("fauxqs", () => import("faasade-test-no-such-package" as string))).rejects.toMatchObject({
      name: "ExecutionError",
      message: 'startTestBackend("aws") needs fauxqs: npm i -D fauxqs@1.9.2',
    });
  });

  it("any other failure while loading one is passed on as it is", async () => {
    const { need } = await optional();
    const broken = new SyntaxError("Unexpected token");
    await expect(need("aws-lambda-ric", () => Promise.reject(broken))).rejects.toBe(broken);
  });
});
