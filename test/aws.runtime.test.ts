// The AWS runtime's handlers, called as Lambda calls them, against fauxqs (SQS and S3 on 127.0.0.1).
import { Writable } from "node:stream";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { decode, encode } from "faasade";
import {
  type InvokeResponse,
  type SqsBatchResponse,
  handler,
  invokeHandler,
  sqsHandler,
  streamHandler,
} from "faasade/aws/runtime";
import { buildApp } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import "./fixtures/aws-app.mjs";

let close: () => Promise<void> = async () => {};
let s3: S3Client;
let sqs: SQSClient;
let queueUrl = "";
const bucket = "faasade-main-aws-app";

beforeAll(async () => {
  const server = buildApp({ logger: false });
  const url = await server.listen({ port: 0, host: "127.0.0.1" });
  close = () => server.close();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: url,
    AWS_ENDPOINT_URL_SQS: url,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  s3 = new S3Client({ region: "us-east-1", endpoint: url, forcePathStyle: true, credentials });
  sqs = new SQSClient({ region: "us-east-1", endpoint: url, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "faasade-main-aws-app-flaky" }))).QueueUrl as string;
});
afterAll(() => close());

let n = 0;
const envelope = (fn: string, args: unknown[], extra: Record<string, unknown> = {}) => ({
  v: 1 as const,
  app: "aws-app",
  env: "main",
  fn,
  inputId: `in-test-${++n}`,
  callId: `fc-test-${n}`,
  attempt: 1,
  args: Buffer.from(encode(args, "args")).toString("base64"),
  ...extra,
});
const resultOf = (r: InvokeResponse) => decode(Buffer.from(r.value ?? "", "base64"));
const readJson = async (key: string) =>
  JSON.parse((await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? "null");
/** What a spawned input's envelope carries: its app's store, its queue, its retention. */
const spawned = (store = bucket) => ({ store: { name: store, prefix: "" }, spawn: { queue: queueUrl, retentionMs: 60_000 } });
const batch = (...bodies: unknown[]) => ({
  Records: bodies.map((b, i) => ({ messageId: `m-${n}-${i}`, body: JSON.stringify(b) })),
});

describe("aws runtime: direct invokes", () => {
  it("runs an input and answers its outcome, with the execution environment as task", async () => {
    const r = (await handler(envelope("square", [7]), { logStreamName: "2026/11/27/[$LATEST]abc" })) as InvokeResponse;
    expect(r.status).toBe("SUCCESS");
    expect(resultOf(r)).toBe(49);
    expect(r.taskId).toBe("2026/11/27/[$LATEST]abc");
  });

  it("a user error is a FAILURE carrying the error, not a Lambda function error", async () => {
    const r = (await handler(envelope("fail", ["bad"]))) as InvokeResponse;
    expect(r).toMatchObject({ status: "FAILURE", userError: true });
    const err = decode(Buffer.from(r.error ?? "", "base64")) as Error;
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe("bad");
  });

  it("an unknown function is INIT_FAILURE; an input past its timeout is TIMEOUT", async () => {
    const unknown = (await handler(envelope("nope", []))) as InvokeResponse;
    expect(unknown.status).toBe("INIT_FAILURE");
    expect(unknown.message).toMatch(/no function "nope" of app "aws-app"/);
    const started = Date.now();
    const r = (await handler(envelope("hang", []))) as InvokeResponse;
    expect(r.status).toBe("TIMEOUT");
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("a generator streams one line per value, then its outcome", async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    await streamHandler(envelope("count", [3]), stream);
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.slice(0, 3).map((p) => decode(Buffer.from(p.c, "base64")))).toEqual([0, 1, 2]);
    expect(parsed[3].o.status).toBe("SUCCESS");
  });

  it("calls made inside an input come back as call-graph records whose parent is the input", async () => {
    const e = envelope("nested", [3]);
    const r = (await handler(e)) as InvokeResponse;
    expect(resultOf(r)).toBe(10);
    const calls = (r.graph ?? []).filter((g) => "fn" in g);
    expect(calls).toEqual([expect.objectContaining({ parent: e.inputId, fn: "square" })]);
  }, 20_000);
});

describe("aws runtime: function URLs and the stream handler", () => {
  it("a web function answers a function URL request with its Response", async () => {
    Object.assign(process.env, { FAASADE_APP: "aws-app", FAASADE_ENVIRONMENT: "main", FAASADE_FUNCTION: "hello" });
    const r = (await handler({
      version: "2.0",
      rawPath: "/",
      rawQueryString: "name=ada",
      headers: { "content-type": "text/plain" },
      requestContext: { domainName: "abc.lambda-url.us-east-1.on.aws", http: { method: "POST" } },
      body: Buffer.from("from lambda").toString("base64"),
      isBase64Encoded: true,
    })) as { statusCode: number; headers: Record<string, string>; body: string };
    expect(r.statusCode).toBe(201);
    expect(r.headers["x-app"]).toBe("aws");
    expect(Buffer.from(r.body, "base64").toString()).toBe("hello ada from lambda");
  });

  it("the stream handler also takes SQS batches (a generator function's only handler)", async () => {
    let written = "";
    const stream = new Writable({
      write(chunk, _enc, done) {
        written += String(chunk);
        done();
      },
    });
    const e = envelope("count", [2], spawned());
    await streamHandler(batch(e), stream);
    expect(JSON.parse(written)).toEqual({ batchItemFailures: [] });
    expect((await readJson(`results/${e.callId}.json`)).outcome.status).toBe("SUCCESS");
  });
});

describe("aws runtime: one handler per event kind, for custom infrastructure", () => {
  it("invokeHandler takes envelopes only, sqsHandler SQS batches only", async () => {
    expect(((await invokeHandler(envelope("square", [4]))) as InvokeResponse).status).toBe("SUCCESS");
    await expect(invokeHandler(batch(envelope("square", [4])))).rejects.toThrow(/takes a faasade envelope/);
    const e = envelope("square", [8], spawned());
    expect((await sqsHandler(batch(e))).batchItemFailures).toEqual([]);
    expect((await readJson(`results/${e.callId}.json`)).outcome.status).toBe("SUCCESS");
    await expect(sqsHandler(envelope("square", [4]))).rejects.toThrow(/takes an SQS batch/);
  });
});

describe("aws runtime: spawned inputs from SQS", () => {
  it("stores the outcome in S3 and runs a redelivered message only once", async () => {
    const e = envelope("square", [5], spawned());
    expect(((await handler(batch(e))) as SqsBatchResponse).batchItemFailures).toEqual([]);
    const first = await readJson(`results/${e.callId}.json`);
    expect(first.outcome.status).toBe("SUCCESS");
    expect(first.expiresAt - first.finishedAt).toBe(60_000);
    await handler(batch(e));
    expect((await readJson(`results/${e.callId}.json`)).finishedAt).toBe(first.finishedAt);
    expect(first.graph[0]).toMatchObject({ call: e.callId, fn: "square" });
    expect(first.call).toMatchObject({ fn: "square", inputId: e.inputId });
  });

  it("retries a failure by the function's policy as a new SQS message, then stores the success", async () => {
    const e = envelope("flaky", [1], spawned());
    expect(((await handler(batch(e))) as SqsBatchResponse).batchItemFailures).toEqual([]);
    await expect(readJson(`results/${e.callId}.json`)).rejects.toThrow();
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2 }));
    expect(Messages).toHaveLength(1);
    const retry = JSON.parse(Messages[0]?.Body ?? "{}");
    expect(retry).toMatchObject({ callId: e.callId, attempt: 2 });
    await handler(batch(retry));
    const done = await readJson(`results/${e.callId}.json`);
    expect(done.outcome).toMatchObject({ status: "SUCCESS", attempt: 2 });
  });

  it("a cancel marker ends the call TERMINATED without running it", async () => {
    const e = envelope("square", [9], spawned());
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `cancel/${e.callId}`, Body: new Uint8Array() }));
    await handler(batch(e));
    expect((await readJson(`results/${e.callId}.json`)).outcome.status).toBe("TERMINATED");
  });

  it("reports a message it could not store as a batch item failure, and the others as done", async () => {
    const good = envelope("square", [2], spawned());
    const bad = envelope("square", [3], spawned("no-such-bucket"));
    const r = (await handler(batch(good, bad))) as SqsBatchResponse;
    expect(r.batchItemFailures).toEqual([{ itemIdentifier: `m-${n}-1` }]);
    expect((await readJson(`results/${good.callId}.json`)).outcome.status).toBe("SUCCESS");
  });
});

describe("aws runtime: retries past what one SQS message can delay", () => {
  it("a retry not due yet is sent on for the rest of its delay, without running", async () => {
    const e = envelope("square", [6], spawned());
    const later = { ...e, spawn: { queue: queueUrl, retentionMs: 60_000, notBefore: Date.now() + 3600_000 } };
    expect(((await handler(batch(later))) as SqsBatchResponse).batchItemFailures).toEqual([]);
    await expect(readJson(`results/${e.callId}.json`)).rejects.toThrow();
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    // Sent on, delayed by SQS's 15 minutes at most: waiting in the queue, not receivable yet.
    expect(Messages).toHaveLength(0);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessagesDelayed"] }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessagesDelayed)).toBe(1);
  });

  it("a redelivery of an attempt that was already retried does nothing", async () => {
    const e = envelope("flaky", [1], spawned());
    await handler(batch(e));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2 }));
    expect(Messages).toHaveLength(1);
    await handler(batch(e)); // SQS delivered attempt 1 again
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(again.Messages ?? []).toHaveLength(0);
    await handler(batch(JSON.parse(Messages[0]?.Body ?? "{}")));
    expect((await readJson(`results/${e.callId}.json`)).outcome).toMatchObject({ status: "SUCCESS", attempt: 2 });
  });
});
