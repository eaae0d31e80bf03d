// Web endpoints as the contract says (API.md, `web`): a web function's URL is public unless
// `web: { auth: true }`, which then takes the provider's own credentials (the deployment token
// locally, SigV4 on AWS), and a function that is not web has no URL at all. Locally on a
// deployment server (the token's edge cases and the control API's 401 are in
// deploy.hardening.test.ts and deploy.test.ts); on AWS on the offline backend, whose function
// URLs check signatures as AuthType AWS_IAM does (src/testing/aws/sigv4.ts, a test double).
import { execFile } from "node:child_process";
import { type Hash, type Hmac, createHash, createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetFunctionUrlConfigCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { SignatureV4 } from "@smithy/signature-v4";
import { Function_ } from "faasade";
import { startTestBackend } from "faasade/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const APP = "test/fixtures/web-auth-app.mjs";

/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape the SigV4 signer takes. */
type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data) =>
  typeof d === "string" ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);
class Sha256 {
  #hash: Hash | Hmac;
  constructor(private readonly secret?: Data) {
    this.#hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(this.secret));
  }
  update(data: Data) {
    this.#hash.update(bytes(data));
  }
  reset() {
    this.#hash = this.fresh();
  }
  async digest() {
    return new Uint8Array(this.#hash.digest());
  }
}

describe("web endpoints on a local deployment", { timeout: 60_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), "faasade-web-auth-"));
  const env = { ...process.env, FAASADE_HOME: home };
  const cli = (...args: string[]) => promisify(execFile)(process.execPath, ["dist/src/cli/main.js", ...args], { env });
  const server = () => JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number; port: number };
  const token = () => readFileSync(join(home, "token"), "utf8").trim();
  const web = (fn: string) => `http://127.0.0.1:${server().port}/web/main/web-auth-app/${fn}`;
  beforeAll(async () => {
    await cli("deploy", APP);
  });
  afterAll(() => {
    try {
      process.kill(server().pid, "SIGTERM");
    } catch {
      // already gone
    }
    rmSync(home, { recursive: true, force: true });
  });

  it("a public web function answers without the token", async () => {
    const r = await fetch(web("open"), { method: "POST", body: "hi" });
    expect([r.status, await r.text()]).toEqual([200, "open POST hi"]);
  });

  it("a function that is not web has no URL; an auth: true one answers 401 without the token, 200 with it", async () => {
    expect((await fetch(web("plain"), { method: "POST" })).status).toBe(404);
    expect((await fetch(web("guarded"), { method: "POST", body: "x" })).status).toBe(401);
    const ok = await fetch(web("guarded"), { method: "POST", body: "x", headers: { authorization: `Bearer ${token()}` } });
    expect([ok.status, await ok.text()]).toEqual([200, "guarded POST x"]);
  });
});

describe("function URLs on the AWS offline backend", { timeout: 60_000 }, () => {
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let lambda: LambdaClient;
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  const fn = (name: string) => Function_.fromName("web-auth-app", name, { provider: backend.provider });
  const nameOf = (f: string) => `${backend.env.FAASADE_AWS_PREFIX}-main-web-auth-app-${f}`;
  beforeAll(async () => {
    backend = await startTestBackend("aws", { module: new URL("./fixtures/web-auth-app.mjs", import.meta.url) });
    lambda = new LambdaClient({ region: "us-east-1", endpoint: backend.env.AWS_ENDPOINT_URL_LAMBDA as string, credentials });
  });
  afterAll(async () => {
    lambda?.destroy();
    await backend?.close();
  });

  /** A POST to `url` signed for the lambda service, as an IAM-authenticated caller signs it. */
  async function signed(url: string, body: string, options: { secret?: string; service?: string } = {}) {
    const u = new URL(url);
    const signer = new SignatureV4({
      service: options.service ?? "lambda",
      region: "us-east-1",
      sha256: Sha256,
      credentials: { ...credentials, secretAccessKey: options.secret ?? credentials.secretAccessKey },
    });
    const request = await signer.sign({
      method: "POST",
      protocol: u.protocol,
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      headers: { host: u.host, "content-type": "text/plain" },
      body,
    });
    return request.headers as Record<string, string>;
  }

  it("deploy's auth types: a public web function's URL is NONE, an auth: true one's AWS_IAM, a plain function has none", async () => {
    const url = (f: string) => lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: nameOf(f), Qualifier: "live" }));
    expect((await url("open")).AuthType).toBe("NONE");
    expect((await url("guarded")).AuthType).toBe("AWS_IAM");
    await expect(url("plain")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(await fn("plain").getWebUrl()).toBeUndefined();
    const base = new URL((await fn("open").getWebUrl()) as string);
    expect((await fetch(new URL(`/url/${nameOf("plain")}/`, base), { method: "POST" })).status).toBe(404);
  });

  it("a public URL answers unsigned requests", async () => {
    const r = await fetch((await fn("open").getWebUrl()) as string, { method: "POST", body: "hi" });
    expect([r.status, await r.text()]).toEqual([200, "open POST hi"]);
  });

  it("an AWS_IAM URL answers only a valid SigV4 signature of the backend's credentials", async () => {
    const url = `${(await fn("guarded").getWebUrl()) as string}some/path?b=2&a=1`;
    expect((await fetch(url, { method: "POST", body: "x" })).status).toBe(403);
    const ok = await fetch(url, { method: "POST", body: "x", headers: await signed(url, "x") });
    expect([ok.status, await ok.text()]).toEqual([200, "guarded POST x"]);
    // A wrong secret, another service's scope, a body other than the one signed, a forged signature: refused.
    expect((await fetch(url, { method: "POST", body: "x", headers: await signed(url, "x", { secret: "other" }) })).status).toBe(
      403,
    );
    expect((await fetch(url, { method: "POST", body: "x", headers: await signed(url, "x", { service: "s3" }) })).status).toBe(
      403,
    );
    expect((await fetch(url, { method: "POST", body: "changed", headers: await signed(url, "x") })).status).toBe(403);
    const forged = (await signed(url, "x")).authorization?.replace(/Signature=[0-9a-f]{64}/, `Signature=${"0".repeat(64)}`);
    const headers = { ...(await signed(url, "x")), authorization: forged as string };
    expect((await fetch(url, { method: "POST", body: "x", headers })).status).toBe(403);
  });
});
