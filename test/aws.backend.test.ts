// The aws provider end to end on startTestBackend("aws"): what the conformance suite does not
// state for every provider (payloads over the inline limits, handles from another process).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Function_ } from "faasade";
import { aws } from "faasade/aws";
import { startTestBackend } from "faasade/testing";
import { afterAll, describe, expect, it } from "vitest";

const backend = await startTestBackend("aws", { module: new URL("./fixtures/aws-app.mjs", import.meta.url) });
afterAll(() => backend.close());
const prefix = backend.env.FAASADE_AWS_PREFIX as string;
const bucket = `${prefix}-main-aws-app`;
const fn = <T extends (...args: never[]) => unknown>(name: string) =>
  Function_.fromName<T>("aws-app", name, { provider: backend.provider });

/** Another aws provider on the same backend, with options of its own. */
const providerWith = (options: Parameters<typeof aws>[0]) =>
  aws({
    prefix,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    endpoints: {
      lambda: backend.env.AWS_ENDPOINT_URL_LAMBDA,
      sqs: backend.env.AWS_ENDPOINT_URL_SQS,
      s3: backend.env.AWS_ENDPOINT_URL_S3,
    },
    ...options,
  });

describe("aws provider on the offline backend", { timeout: 60_000 }, () => {
  it("a 20 MB argument and a 20 MB result round-trip (over Lambda's 6 MB invoke limit, through S3)", async () => {
    const big = "x".repeat(20 * 1024 * 1024);
    const r = (await fn<(t: string) => { length: number; back: string }>("size").remote(big)) as { length: number; back: string };
    expect(r.length).toBe(big.length);
    expect(r.back === big).toBe(true);
  });

  it("a spawn above SQS's message limit goes through S3 too", async () => {
    const big = "y".repeat(300 * 1024);
    const call = await fn<(t: string) => { length: number }>("size").spawn(big);
    expect(((await call.get()) as { length: number }).length).toBe(big.length);
    // fauxqs takes large messages, so look for the offloaded arguments themselves.
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: backend.env.AWS_ENDPOINT_URL_S3 as string,
      forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "payloads/" }));
    expect((listed.Contents ?? []).some((o) => o.Key?.endsWith("-1-args"))).toBe(true);
  });

  it("a call spawned in one process is read by id in another, through the backend's env", async () => {
    const call = await fn<(x: number) => number>("square").spawn(11);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'import { FunctionCall } from "faasade"; console.log(await FunctionCall.fromId(process.argv[1]).get());',
        call.objectId,
      ],
      { env: { ...process.env, ...backend.env } },
    );
    expect(stdout.trim()).toBe("121");
  });

  it("an existing bucket can hold every app's objects under faasade/, the bucket left as it was", async () => {
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: backend.env.AWS_ENDPOINT_URL_S3 as string,
      forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    await s3.send(new CreateBucketCommand({ Bucket: "team-data" }));
    const manifest = await (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "manifest.json" }))).Contents;
    expect(manifest).toHaveLength(1);
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "manifest.json" }))).Body?.transformToString();
    await s3.send(new PutObjectCommand({ Bucket: "team-data", Key: "faasade/main/aws-app/manifest.json", Body: body ?? "" }));
    const provider = providerWith({ bucket: "team-data" });
    const square = Function_.fromName<(x: number) => number>("aws-app", "square", { provider });
    expect(await square.remote(6)).toBe(36);
    const call = await square.spawn(7);
    expect(await call.get()).toBe(49);
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: "team-data" }))).Contents ?? []).map((o) => o.Key);
    expect(keys).toContain(`faasade/results/${call.objectId}.json`);
    expect(keys).toContain(`faasade/calls/${call.objectId}.json`);
    expect(keys.every((k) => k?.startsWith("faasade/"))).toBe(true);
    await provider.close();
  });

  it("with fanOutFrom, a large map goes through SQS (batched sends, outcomes through S3); a small one is invokes", async () => {
    const provider = providerWith({ fanOutFrom: 200 });
    const square = Function_.fromName<(x: number) => number>("aws-app", "square", { provider });
    backend.takeRequestCounts();
    const small: number[] = [];
    for await (const v of square.map([1, 2, 3])) small.push(v as number);
    expect(small).toEqual([1, 4, 9]);
    expect(backend.takeRequestCounts()["sqs:SendMessageBatch"] ?? 0).toBe(0);

    const inputs = Array.from({ length: 600 }, (_, i) => i);
    const out: number[] = [];
    for await (const v of square.map(inputs)) out.push(v as number);
    expect(out).toEqual(inputs.map((x) => x * x));
    const counts = backend.takeRequestCounts();
    expect(counts["sqs:SendMessageBatch"] ?? 0).toBeGreaterThanOrEqual(60);
    expect(counts["sqs:SendMessageBatch"] ?? 0).toBeLessThanOrEqual(70);
    // Left early: the rest never runs, and the map's results do not linger.
    let taken = 0;
    for await (const _ of square.map(Array.from({ length: 1000 }, (_, i) => i))) if (++taken === 5) break;
    await provider.close();
    // The sends already under way finish: wait for a second without any, so the next test counts only its own.
    for (let quiet = 0; quiet < 5; ) {
      await new Promise((r) => setTimeout(r, 200));
      quiet = (backend.takeRequestCounts()["sqs:SendMessageBatch"] ?? 0) === 0 ? quiet + 1 : 0;
    }
  });

  it("by default a large map is invokes", async () => {
    backend.takeRequestCounts();
    let n = 0;
    for await (const _ of fn<(x: number) => number>("square").map(Array.from({ length: 300 }, (_, i) => i))) n++;
    expect(n).toBe(300);
    expect(backend.takeRequestCounts()["sqs:SendMessageBatch"] ?? 0).toBe(0);
  });
});
