// Which AWS failures the clients ride through: real SDK errors from a closed port, a server
// answering 503 SlowDown / 429, and fauxqs refusing for good (a missing bucket). Passing ones
// become TransportError (ridden through by the core); the rest stay ProviderError.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { buildApp } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProviderError } from "../src/core/errors.js";
import { TransportError, rideThrough } from "../src/core/transport.js";
import { clients } from "../src/providers/aws/clients.js";
import { s3Store } from "../src/providers/aws/s3-store.js";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const storeAt = (endpoint: string, bucket = "ride") =>
  s3Store(clients({ region: "us-east-1", credentials, endpoints: { s3: endpoint } }), bucket);

let fauxqs = "";
let closeFauxqs: () => Promise<void> = async () => {};
/** Answers `status` with an S3 error body while `refusing`, then passes requests on to fauxqs. */
let refusing: { status: number; code: string } | undefined;
let flaky = "";
const proxy = createServer((req, res) => {
  if (refusing !== undefined) {
    res.writeHead(refusing.status, { "content-type": "application/xml" });
    res.end(`<?xml version="1.0"?><Error><Code>${refusing.code}</Code><Message>try again</Message></Error>`);
    return;
  }
  const target = new URL(req.url ?? "/", fauxqs);
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const method = req.method ?? "GET";
    const answer = await fetch(target, {
      method,
      headers: req.headers as Record<string, string>,
      ...(["GET", "HEAD"].includes(method) ? {} : { body: Buffer.concat(chunks) }),
    });
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
});

beforeAll(async () => {
  const server = buildApp({ logger: false });
  fauxqs = await server.listen({ port: 0, host: "127.0.0.1" });
  closeFauxqs = () => server.close();
  await new S3Client({ region: "us-east-1", endpoint: fauxqs, forcePathStyle: true, credentials }).send(
    new CreateBucketCommand({ Bucket: "ride" }),
  );
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  flaky = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  proxy.close();
  await closeFauxqs();
});

describe("aws: passing failures are TransportError, others ProviderError", { timeout: 60_000 }, () => {
  it("a closed port (connection refused) is a TransportError naming the operation", async () => {
    const err = await storeAt("http://127.0.0.1:9")
      .get("k")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(/aws GetObject ride\/k failed: .*ECONNREFUSED/);
  });

  for (const refusal of [
    { status: 503, code: "SlowDown" },
    { status: 500, code: "InternalError" },
    { status: 429, code: "TooManyRequests" },
  ]) {
    it(`${refusal.status} ${refusal.code} is ridden through until S3 answers again`, async () => {
      const store = storeAt(flaky);
      await storeAt(fauxqs).put("k", "stored");
      refusing = refusal;
      const once = await store.get("k").catch((e: unknown) => e);
      expect(once).toBeInstanceOf(TransportError);
      setTimeout(() => {
        refusing = undefined;
      }, 1500);
      const got = await rideThrough(() => store.get("k"));
      expect(Buffer.from(got as Uint8Array).toString()).toBe("stored");
    });
  }

  it("a refusal for good (no such bucket) is a ProviderError, not ridden through", async () => {
    const err = await storeAt(fauxqs, "no-such-bucket")
      .put("k", "v")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).not.toBeInstanceOf(TransportError);
  });
});
