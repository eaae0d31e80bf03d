// What a new user of the aws provider sees first, run as the real command (a child process, so
// nothing of this test's own environment leaks in): a missing region is one InvalidError saying
// how to set it, before any request; the SDK's multi-line "requires node >= 22" notice is not
// printed on Node 20 unless the user asked for it; no "Stream of unknown length" warning on cancel.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { buildApp } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { InvalidError } from "../src/core/errors.js";
import { clients } from "../src/providers/aws/clients.js";
import { s3Store } from "../src/providers/aws/s3-store.js";

const CLI = "dist/src/cli/main.js";
const NOTICE = /NodeVersionSupportWarning|require node >=22/;
const UNKNOWN_LENGTH = /Stream of unknown length/;
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const nodeMajor = Number(process.versions.node.split(".")[0]);
const scratch = mkdtempSync(join(tmpdir(), "faasade-first-run-"));

let endpoint = "";
let closeFauxqs: () => Promise<void> = async () => {};
beforeAll(async () => {
  const server = buildApp({ logger: false });
  endpoint = await server.listen({ port: 0, host: "127.0.0.1" });
  closeFauxqs = () => server.close();
  const s3 = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: "first-run" }));
  s3.destroy();
});
afterAll(() => closeFauxqs());

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** This process's environment without anything AWS: no region, credentials, profile or notice switch. */
function awsFree(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
  return {
    ...env,
    AWS_CONFIG_FILE: join(scratch, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, "no-aws-credentials"),
    AWS_MAX_ATTEMPTS: "1",
    FAASADE_HOME: join(scratch, "home"),
    ...extra,
  };
}

const run = (args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<Ran>((resolve) => {
    execFile(process.execPath, args, { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });

/** `faasade ls --provider aws` against fauxqs: one real AWS command that succeeds offline. */
const lsOnFauxqs = (extra: Record<string, string> = {}) =>
  run(
    [CLI, "ls", "--provider", "aws"],
    awsFree({
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      ...extra,
    }),
  );

describe("aws without a region", { timeout: 60_000 }, () => {
  const withoutRegion = (extra: Record<string, string> = {}) =>
    awsFree({ AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", ...extra });

  it("deploy --provider aws fails with one InvalidError naming every way to set it, before any request", async () => {
    const ran = await run([CLI, "deploy", "test/fixtures/aws-app.mjs", "--provider", "aws"], withoutRegion());
    expect(ran.code).toBe(1);
    const lines = ran.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^faasade: InvalidError: aws: no AWS region is set: /);
    expect(lines[0]).toContain("AWS_REGION");
    expect(lines[0]).toContain('aws({ region: "us-east-1" })');
    expect(lines[0]).toContain("aws configure set region us-east-1");
    expect(ran.stderr).not.toContain("Region is missing");
    expect(ran.stderr).not.toMatch(/bundling|deploying/);
  });

  it("names the profile in use, and the other commands say the same", async () => {
    for (const args of [["ls"], ["call", "aws-app/square", "3"], ["get", "fc-00000000-0000-4000-8000-000000000000"]]) {
      const ran = await run([CLI, ...args, "--provider", "aws"], withoutRegion({ AWS_PROFILE: "team" }));
      expect(ran.code, args.join(" ")).toBe(1);
      expect(ran.stderr.trim(), args.join(" ")).toMatch(
        /^faasade: InvalidError: aws: no AWS region is set: .*aws configure set region us-east-1 --profile team\)$/,
      );
    }
  });

  it("every client refuses with InvalidError until a region is found, then works: options, AWS_REGION, a profile's region", async () => {
    const saved = { ...process.env };
    try {
      for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
      process.env.AWS_CONFIG_FILE = join(scratch, "no-aws-config");
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(scratch, "no-aws-credentials");
      const sdk = clients({ credentials, endpoints: { s3: endpoint } });
      for (const get of [sdk.s3, sdk.sqs, sdk.lambda, sdk.iam]) {
        const err = await get().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidError);
        expect((err as Error).message).toMatch(/^aws: no AWS region is set: set AWS_REGION/);
      }
      // A failure is not kept: the same clients work once the region is there.
      process.env.AWS_REGION = "eu-west-1";
      expect(await (await sdk.s3()).config.region()).toBe("eu-west-1");
      delete process.env.AWS_REGION;
      expect(await (await clients({ region: "us-west-2" }).sqs()).config.region()).toBe("us-west-2");
      const config = join(scratch, "aws-config");
      writeFileSync(config, "[profile team]\nregion = ap-south-1\n");
      process.env.AWS_CONFIG_FILE = config;
      process.env.AWS_PROFILE = "team";
      expect(await (await clients({}).lambda()).config.region()).toBe("ap-south-1");
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it("a region that is no region name is refused when the provider is made, quoting it", () => {
    expect(() => clients({ region: "" })).toThrow(InvalidError);
    expect(() => clients({ region: "us east 1" })).toThrow(/region must be a region name such as "us-east-1", got "us east 1"/);
  });
});

describe("the AWS SDK's Node version notice", { timeout: 60_000 }, () => {
  it.skipIf(nodeMajor >= 22)("is not printed by an AWS command on Node 20 (without the SDK's switch set)", async () => {
    const ran = await lsOnFauxqs();
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain("no apps deployed");
  });

  it.skipIf(nodeMajor >= 22)(
    "is printed when the user set the SDK's switch to something else: faasade leaves it alone",
    async () => {
      const ran = await lsOnFauxqs({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" });
      expect(ran.code).toBe(0);
      expect(ran.stderr).toMatch(NOTICE);
    },
  );
});

describe("no 'Stream of unknown length' warning", { timeout: 120_000 }, () => {
  it("the object store writes empty bodies (cancel and retry markers) with their length", async () => {
    const warn = vi.spyOn(console, "warn");
    try {
      const store = s3Store(clients({ region: "us-east-1", credentials, endpoints: { s3: endpoint } }), "first-run");
      await store.put("cancel/fc-1", "");
      await store.put("retried/fc-1/1", new Uint8Array());
      await store.put("cancel/fc-2", "", { ifAbsent: true });
      expect(await store.get("cancel/fc-1")).toEqual(new Uint8Array());
      expect(await store.has("retried/fc-1/1")).toBe(true);
      expect(warn.mock.calls.map((c) => String(c[0])).filter((m) => UNKNOWN_LENGTH.test(m))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it("cancelling a spawned call on the aws backend leaves the user's stderr clean", async () => {
    const script = join(scratch, "cancel.mjs");
    const testing = new URL("../dist/src/testing/index.js", import.meta.url).href;
    const core = new URL("../dist/src/index.js", import.meta.url).href;
    const app = new URL("./fixtures/aws-app.mjs", import.meta.url).href;
    writeFileSync(
      script,
      [
        `import { Function } from ${JSON.stringify(core)};`,
        `import { startTestBackend } from ${JSON.stringify(testing)};`,
        `const backend = await startTestBackend("aws", { module: ${JSON.stringify(app)} });`,
        "try {",
        '  const hang = Function.fromName("aws-app", "hang", { provider: backend.provider });',
        "  const running = await hang.spawn();",
        "  const queued = await hang.spawn();",
        "  await queued.cancel();",
        "  await new Promise((r) => setTimeout(r, 300));",
        "  await running.cancel();",
        "  const outcomes = await Promise.all([running.get().catch((e) => e.name), queued.get().catch((e) => e.name)]);",
        "  console.log(JSON.stringify(outcomes));",
        "} finally {",
        "  await backend.close();",
        "}",
      ].join("\n"),
    );
    const ran = await run([script], awsFree({}));
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual(["InputCancelledError", "InputCancelledError"]);
    expect(ran.stderr).not.toMatch(UNKNOWN_LENGTH);
    expect(ran.stderr).not.toMatch(NOTICE);
  });
});
