// Fuzzing the AWS runtime's event decoders in-process (S3 and SQS are fauxqs on 127.0.0.1):
// direct invoke envelopes, SQS batches and function URL events with fields missing, of the
// wrong type, prototype keys, huge strings and bad base64. The handlers never throw anything
// but an InvalidError naming the bad field (a direct invoke: Lambda answers the invoker with
// it); a record that can never run is dropped with a log line; a bad web event is a 400.
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import fc from "fast-check";
import { encode } from "faasade";
import { type InvokeResponse, type SqsBatchResponse, handler, invokeHandler } from "faasade/aws/runtime";
import { buildApp } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import "./fixtures/aws-app.mjs";

let close: () => Promise<void> = async () => {};
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
    FAASADE_APP: "aws-app",
    FAASADE_ENVIRONMENT: "main",
    FAASADE_FUNCTION: "hello",
  });
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  const s3 = new S3Client({ region: "us-east-1", endpoint: url, forcePathStyle: true, credentials });
  const sqs = new SQSClient({ region: "us-east-1", endpoint: url, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "faasade-main-aws-app-fuzz" }))).QueueUrl as string;
});
afterAll(() => close());

let n = 0;
const good = (fn = "square", args: unknown[] = [3]) => ({
  v: 1,
  app: "aws-app",
  env: "main",
  fn,
  inputId: `in-fuzz-${++n}`,
  callId: `fc-fuzz-${n}`,
  attempt: 1,
  args: Buffer.from(encode(args, "args")).toString("base64"),
});
const queued = (fn?: string) => ({
  ...good(fn),
  store: { name: bucket, prefix: "" },
  spawn: { queue: queueUrl, retentionMs: 60_000 },
});

const FIELDS = ["v", "app", "env", "fn", "inputId", "callId", "attempt", "args", "argsAt", "parent", "store", "spawn"];
const PROTO = ["__proto__", "constructor", "prototype", "toString"];
const wrongValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, -1, 0, 1.5, "", "!!!!", "QQ=", "x".repeat(200_000), [], {}, { name: 1 }, { queue: "" }),
  fc.constant("A".repeat(2_000_000)), // valid base64 of garbage codec bytes
);
/** A change to an event: a field set to a wrong value, removed, or a prototype key added (as JSON.parse makes them: own keys). */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), field: fc.constantFrom(...FIELDS), value: wrongValue }),
  fc.record({ kind: fc.constant("delete" as const), field: fc.constantFrom(...FIELDS), value: fc.constant(undefined) }),
  fc.record({ kind: fc.constant("proto" as const), field: fc.constantFrom(...PROTO), value: wrongValue }),
);
type Mutation = { kind: "set" | "delete" | "proto"; field: string; value: unknown };
const mutate = (event: Record<string, unknown>, changes: Mutation[]): unknown => {
  const e: Record<string, unknown> = JSON.parse(JSON.stringify(event));
  for (const c of changes) {
    if (c.kind === "delete") delete e[c.field];
    else Object.defineProperty(e, c.field, { value: c.value, enumerable: true, writable: true, configurable: true });
  }
  return JSON.parse(JSON.stringify(e)); // what Lambda hands the handler: parsed JSON
};
const fnName = fc.constantFrom("square", "fail", "size", "nope", "");

/** What the handlers may do with a bad event: throw an InvalidError whose message names the field. */
function expectNamedRefusal(err: unknown, changes: Mutation[]): void {
  expect((err as Error).name, String((err as Error)?.stack)).toBe("InvalidError");
  const named = changes.filter((c) => c.kind !== "proto").map((c) => c.field);
  expect((err as Error).message).toMatch(new RegExp(`envelope(\\.(${[...named, "store", "spawn"].join("|")})\\b|:)`));
}

const tally = new Map<string, number>();
const count = (what: string) => tally.set(what, (tally.get(what) ?? 0) + 1);

describe("aws runtime: fuzzed direct invokes", () => {
  it("answer with an outcome, or refuse with an InvalidError naming the field; nothing else", async () => {
    await fc.assert(
      fc.asyncProperty(fnName, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (fn, changes) => {
        const event = mutate(good(fn), changes);
        try {
          const answer = (await invokeHandler(event)) as InvokeResponse;
          expect(answer.v).toBe(1);
          expect(["SUCCESS", "FAILURE", "INIT_FAILURE", "TIMEOUT"]).toContain(answer.status);
          count(`invoke ${answer.status}`);
        } catch (err) {
          expectNamedRefusal(err, changes);
          count("invoke refused");
        }
      }),
      { numRuns: 300, interruptAfterTimeLimit: 8_000 },
    );
    expect(((await handler(good("square", [12]))) as InvokeResponse).status).toBe("SUCCESS");
  }, 30_000);

  it("events that are no envelope at all (random JSON) are refused by name too", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (event) => {
        try {
          const answer = await handler(event);
          // Only an object with Records (a batch) or a function URL event gets an answer.
          expect(answer).toSatisfy((a: object) => "batchItemFailures" in a || "statusCode" in a);
        } catch (err) {
          expect((err as Error).name).toBe("InvalidError");
          expect((err as Error).message).toMatch(/^faasade: this handler takes a faasade envelope.*envelope[.:]/);
        }
      }),
      { numRuns: 300, interruptAfterTimeLimit: 5_000 },
    );
  }, 20_000);
});

describe("aws runtime: fuzzed SQS batches", () => {
  it("drops records that can never run with a log line, reports none of them for redelivery", async () => {
    const logged: string[] = [];
    const spy = vi
      .spyOn(console, "error")
      .mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    const record = fc.oneof(
      fc.tuple(fnName, fc.array(mutation, { maxLength: 2 })).map(([fn, m]) => JSON.stringify(mutate(queued(fn), m))),
      fc.string({ maxLength: 50 }),
      fc.jsonValue().map((v) => JSON.stringify(v) ?? "null"),
      fc.constant(JSON.stringify(good())), // an envelope without its spawn target: never runs from a queue
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 4 }), async (bodies) => {
          logged.length = 0;
          const ids = bodies.map(() => `m-fuzz-${++n}`);
          const answer = (await handler({ Records: bodies.map((body, i) => ({ messageId: ids[i], body })) })) as SqsBatchResponse;
          const failed = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
          bodies.forEach((body, i) => {
            const dropped = logged.some((l) => l.startsWith(`faasade: dropped message ${ids[i]}, which can never run: `));
            if (neverRuns(body)) {
              expect(dropped, `${ids[i]}: ${body.slice(0, 200)}`).toBe(true);
              expect(failed.has(ids[i] as string)).toBe(false);
            }
            count(dropped ? "record dropped" : failed.has(ids[i] as string) ? "record reported" : "record consumed");
          });
        }),
        { numRuns: 120, interruptAfterTimeLimit: 10_000 },
      );
      // Records that are not records at all are dropped the same way.
      logged.length = 0;
      const odd = (await handler({ Records: [null, 7, { body: 1 }, { messageId: "m-x" }] })) as SqsBatchResponse;
      expect(odd.batchItemFailures).toEqual([]);
      expect(logged.filter((l) => l.includes("which can never run"))).toHaveLength(4);
    } finally {
      spy.mockRestore();
    }
    const fine = queued();
    const r = (await handler({ Records: [{ messageId: "m-good", body: JSON.stringify(fine) }] })) as SqsBatchResponse;
    expect(r.batchItemFailures).toEqual([]);
  }, 40_000);
});

/** An independent oracle of the plainest cases: not JSON, not an object, or without the fields a queued input must have. */
function neverRuns(body: string): boolean {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(body);
  } catch {
    return true;
  }
  if (typeof e !== "object" || e === null || Array.isArray(e)) return true;
  return e.v !== 1 || e.spawn === undefined || e.store === undefined || typeof e.args !== "string";
}

describe("aws runtime: fuzzed function URL events", () => {
  const base = {
    version: "2.0",
    rawPath: "/",
    rawQueryString: "name=ada",
    headers: { "content-type": "text/plain" },
    requestContext: { domainName: "abc.lambda-url.us-east-1.on.aws", http: { method: "POST" } },
    body: Buffer.from("hi").toString("base64"),
    isBase64Encoded: true,
  };
  const HTTP_FIELDS = ["rawPath", "rawQueryString", "headers", "requestContext", "body", "isBase64Encoded"];
  const webValue = fc.oneof(
    wrongValue,
    fc.constantFrom(
      { http: { method: "GET\n" } },
      { http: { method: 5 } },
      { http: {} },
      { domainName: "bad host/x", http: { method: "POST" } },
      { "bad name": "v" },
      { "x-ok": "line\nbreak" },
      { "x-ok": 5 },
      "/ok",
      "no-slash",
      "%%%",
    ),
  );
  const change = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), field: fc.constantFrom(...HTTP_FIELDS), value: webValue }),
    fc.record({ kind: fc.constant("delete" as const), field: fc.constantFrom(...HTTP_FIELDS), value: fc.constant(undefined) }),
    fc.record({ kind: fc.constant("proto" as const), field: fc.constantFrom(...PROTO), value: wrongValue }),
  );

  it("answer a malformed event with 400 naming what was wrong, and run the well-formed ones", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 3 }), async (changes) => {
        const r = (await handler(mutate(base, changes))) as { statusCode: number; body: string };
        const text = Buffer.from(r.body, "base64").toString();
        expect([201, 400, 500]).toContain(r.statusCode);
        if (r.statusCode === 400) expect(text).toMatch(/^function URL event: /);
        count(`web ${r.statusCode}`);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 8_000 },
    );
    const r = (await handler(base)) as { statusCode: number; body: string };
    expect(r.statusCode).toBe(201);
    console.log(`aws runtime fuzz: ${[...tally].map(([k, v]) => `${k} ×${v}`).join(", ")}`);
  }, 30_000);
});
