// Put-if-absent on S3 (a contract test: fauxqs 1.9.2 ignores IfNoneMatch, so the SDK client is
// mocked): the request carries IfNoneMatch "*", and S3's PreconditionFailed means "it existed".
import * as S3 from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../src/core/errors.js";
import { clients } from "../src/providers/aws/clients.js";
import { s3Store } from "../src/providers/aws/s3-store.js";

const s3 = mockClient(S3.S3Client);
beforeEach(() => s3.reset());
const store = () => s3Store(clients({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } }), "b1");
const refusal = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe("aws object store: put-if-absent contract", () => {
  it("sends IfNoneMatch and answers true when written, false on PreconditionFailed", async () => {
    s3.on(S3.PutObjectCommand).resolvesOnce({}).rejectsOnce(refusal("PreconditionFailed", 412));
    expect(await store().put("results/fc-1.json", "a", { ifAbsent: true })).toBe(true);
    expect(await store().put("results/fc-1.json", "b", { ifAbsent: true })).toBe(false);
    expect(s3).toHaveReceivedCommandWith(S3.PutObjectCommand, { Bucket: "b1", Key: "results/fc-1.json", IfNoneMatch: "*" });
  });

  it("any other refusal is a ProviderError naming the operation", async () => {
    s3.on(S3.PutObjectCommand).rejects(refusal("AccessDenied", 403));
    const err = await store()
      .put("results/fc-1.json", "a", { ifAbsent: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/PutObject b1\/results\/fc-1\.json failed: AccessDenied/);
  });
});
