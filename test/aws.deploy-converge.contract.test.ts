// Contract tests of AWS deploy and destroy against a test double of the control plane
// (fixtures/aws-control-plane.ts; no emulator exists for it) and a stand-in bundler: a redeploy
// converges on what the manifest asks, reads never take a refusal for "missing", interrupted
// deploys finish on the next one, and destroy finds what deploy made with the same options.
import * as IAM from "@aws-sdk/client-iam";
import * as L from "@aws-sdk/client-lambda";
import * as S3 from "@aws-sdk/client-s3";
import * as SQS from "@aws-sdk/client-sqs";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../src/core/errors.js";
import { type AppManifest, type FunctionManifest, manifestOf } from "../src/core/manifest.js";
import { type AwsDeployOptions, deployApps } from "../src/providers/aws/deploy/resources.js";
import {
  ACCOUNT,
  FakeAccount,
  REGION,
  accessDenied,
  awsError,
  fakeBundler,
  iam,
  lambda,
  names,
  s3,
  sent,
  sqs,
  writes,
} from "./fixtures/aws-control-plane.js";
import * as fixture from "./fixtures/aws-app.mjs";

process.env.AWS_REGION = REGION;
process.env.AWS_ACCESS_KEY_ID = "test";
process.env.AWS_SECRET_ACCESS_KEY = "test";

const manifest: AppManifest = manifestOf(fixture.app);
const SQUARE = "faasade-main-aws-app-square";

/** The manifest with one function's options changed (or the function dropped, or one added). */
function withFn(fn: string, options: Partial<FunctionManifest["options"]>, base: AppManifest = manifest): AppManifest {
  return { ...base, functions: base.functions.map((f) => (f.name === fn ? { ...f, options: { ...f.options, ...options } } : f)) };
}

const only = (...fns: string[]): AppManifest => ({
  ...manifest,
  functions: manifest.functions.filter((f) => fns.includes(f.name)),
});

let account: FakeAccount;
beforeEach(() => {
  account = new FakeAccount().install();
});

/** Deploys, then forgets the requests sent so far: a test looks at the next deploy's. */
async function deployed(app: AppManifest = manifest, options: AwsDeployOptions = {}, revision = "v1") {
  await deployApps([app], options, fakeBundler(revision));
  for (const m of [lambda, s3, sqs, iam]) m.resetHistory();
}

describe("aws deploy contract: a redeploy converges", { timeout: 30_000 }, () => {
  it("a second deploy of the same code sends no write", async () => {
    await deployed();
    await deployApps([manifest], {}, fakeBundler());
    expect(names(writes())).toEqual([]);
  });

  it("minContainers 0 and no maxContainers remove the provisioned and the reserved concurrency an earlier deploy set", async () => {
    await deployed(withFn("square", { minContainers: 2, maxContainers: 10 }));
    expect(account.fn(SQUARE)).toMatchObject({ provisioned: 2, reserved: 10 });
    await deployApps([manifest], {}, fakeBundler());
    expect(lambda).toHaveReceivedCommandWith(L.DeleteProvisionedConcurrencyConfigCommand, {
      FunctionName: SQUARE,
      Qualifier: "live",
    });
    expect(lambda).toHaveReceivedCommandWith(L.DeleteFunctionConcurrencyCommand, { FunctionName: SQUARE });
    expect(lambda).toHaveReceivedCommandTimes(L.DeleteProvisionedConcurrencyConfigCommand, 1);
    expect(lambda).toHaveReceivedCommandTimes(L.DeleteFunctionConcurrencyCommand, 1);
    expect(account.fn(SQUARE).provisioned).toBeUndefined();
    expect(account.fn(SQUARE).reserved).toBeUndefined();
  });

  it("a provisioned config already gone when deploy removes it is fine (ResourceNotFoundException)", async () => {
    await deployed(withFn("square", { minContainers: 2 }));
    lambda.on(L.DeleteProvisionedConcurrencyConfigCommand).rejects(awsError("ResourceNotFoundException", 404));
    await deployApps([manifest], {}, fakeBundler());
    expect(lambda).toHaveReceivedCommandTimes(L.DeleteProvisionedConcurrencyConfigCommand, 1);
  });

  it("lowering both: provisioned concurrency goes down before reserved does (it may never exceed it)", async () => {
    await deployed(withFn("square", { minContainers: 5, maxContainers: 10 }));
    await deployApps([withFn("square", { minContainers: 2, maxContainers: 3 })], {}, fakeBundler());
    const order = names(writes().filter((c) => c.input.FunctionName === SQUARE));
    expect(order).toEqual(["PutProvisionedConcurrencyConfig", "PutFunctionConcurrency"]);
    expect(account.fn(SQUARE)).toMatchObject({ provisioned: 2, reserved: 3 });
  });

  it("settings stored by updateAutoscaler outlive a redeploy, as on local deployments", async () => {
    await deployed();
    const settings = { minContainers: 3, maxContainers: 20, bufferContainers: 0, scaledownWindowMs: 60_000 };
    account.buckets.get("faasade-main-aws-app")?.objects.set("settings/square.json", JSON.stringify(settings));
    await deployApps([manifest], {}, fakeBundler());
    expect(account.fn(SQUARE)).toMatchObject({ provisioned: 3, reserved: 20 });
  });

  it("a function the app no longer has is removed: its mapping, Lambda, queues and stored settings", async () => {
    const square = manifest.functions.find((f) => f.name === "square") as FunctionManifest;
    await deployed({ ...manifest, functions: [...manifest.functions, { ...square, name: "gone" }] });
    account.buckets.get("faasade-main-aws-app")?.objects.set("settings/gone.json", "{}");
    await deployApps([manifest], {}, fakeBundler());
    expect(lambda).toHaveReceivedCommandWith(L.DeleteFunctionCommand, { FunctionName: "faasade-main-aws-app-gone" });
    expect(lambda).toHaveReceivedCommandTimes(L.DeleteFunctionCommand, 1);
    expect(lambda).toHaveReceivedCommandTimes(L.DeleteEventSourceMappingCommand, 1);
    expect(account.queues.has("faasade-main-aws-app-gone")).toBe(false);
    expect(account.queues.has("faasade-main-aws-app-gone-dlq")).toBe(false);
    expect(account.buckets.get("faasade-main-aws-app")?.objects.has("settings/gone.json")).toBe(false);
    expect(account.functions.has(SQUARE)).toBe(true);
  });

  it("a longer timeoutMs raises the queue's visibility timeout", async () => {
    await deployed();
    await deployApps([withFn("square", { timeoutMs: 600_000 })], {}, fakeBundler());
    expect(sqs).toHaveReceivedCommandWith(SQS.SetQueueAttributesCommand, {
      QueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${SQUARE}`,
      Attributes: { VisibilityTimeout: String(601 * 6) },
    });
    expect(sqs).toHaveReceivedCommandTimes(SQS.SetQueueAttributesCommand, 1);
  });

  it("a new retentionDays updates the lifecycle of the app's own bucket", async () => {
    await deployed();
    await deployApps([manifest], { retentionDays: 30 }, fakeBundler());
    const rules = s3.commandCalls(S3.PutBucketLifecycleConfigurationCommand)[0]?.args[0].input.LifecycleConfiguration?.Rules;
    expect(rules?.map((r) => r.Expiration?.Days)).toEqual(Array(9).fill(30));
  });
});

describe("aws deploy contract: interrupted deploys finish on the next one", { timeout: 30_000 }, () => {
  it("new code whose version was never published (PublishVersion failed) is published and aliased next time", async () => {
    await deployed();
    lambda.on(L.PublishVersionCommand).rejects(awsError("ServiceException", 500));
    await expect(deployApps([manifest], {}, fakeBundler("v2"))).rejects.toThrow(/PublishVersion faasade-main-aws-app-square/);
    account.install(); // the same account, answering again
    for (const m of [lambda, s3, sqs, iam]) m.resetHistory();
    await deployApps([manifest], {}, fakeBundler("v2"));
    expect(lambda).toHaveReceivedCommandWith(L.UpdateAliasCommand, { FunctionName: SQUARE, Name: "live", FunctionVersion: "2" });
    const codeUpdates = lambda.commandCalls(L.UpdateFunctionCodeCommand).filter((c) => c.args[0].input.FunctionName === SQUARE);
    expect(codeUpdates).toHaveLength(0); // its code was already there
  });

  it("a bucket left without tags and lifecycle (stopped after CreateBucket) gets them", async () => {
    account.buckets.set("faasade-main-aws-app", { objects: new Map() });
    await deployApps([manifest], {}, fakeBundler());
    expect(s3).toHaveReceivedCommandTimes(S3.CreateBucketCommand, 0);
    expect(s3).toHaveReceivedCommandTimes(S3.PutBucketTaggingCommand, 1);
    expect(s3).toHaveReceivedCommandTimes(S3.PutBucketLifecycleConfigurationCommand, 1);
  });

  it("a function left without its recursion setting (stopped after CreateFunction) gets it", async () => {
    await deployed();
    account.fn(SQUARE).recursion = undefined;
    await deployApps([manifest], {}, fakeBundler());
    expect(lambda).toHaveReceivedCommandWith(L.PutFunctionRecursionConfigCommand, {
      FunctionName: SQUARE,
      RecursiveLoop: "Allow",
    });
    expect(lambda).toHaveReceivedCommandTimes(L.PutFunctionRecursionConfigCommand, 1);
  });

  it("an update still in progress (left by an interrupted deploy) is waited for before the next change", async () => {
    await deployed(only("square"));
    account.updateInProgress = 2; // deploy's read and the first poll see it
    await deployApps([withFn("square", { memoryMb: 2048 }, only("square"))], {}, fakeBundler());
    const calls = sent().filter((c) => c.input.FunctionName === SQUARE);
    const update = calls.findIndex((c) => c.command === "UpdateFunctionConfiguration");
    expect(names(calls.slice(0, update))).toEqual(["GetFunction", "GetFunction", "GetFunction"]); // then the wait's polls
    expect(account.fn(SQUARE).config.MemorySize).toBe(2048);
  });

  it("a role IAM made moments ago that Lambda cannot assume yet is waited for", async () => {
    account.roleNotYetAssumable = 1;
    await deployApps([{ ...manifest, functions: manifest.functions.slice(0, 1) }], {}, fakeBundler());
    expect(lambda).toHaveReceivedCommandTimes(L.CreateFunctionCommand, 2);
    expect(account.functions.has(SQUARE)).toBe(true);
  });
});

/** Reads deploy makes: the name its ProviderError quotes, and how to make it refuse. */
const READS: [string, (e: Error) => unknown][] = [
  ["HeadBucket", (e) => s3.on(S3.HeadBucketCommand).rejects(e)],
  ["GetBucketTagging", (e) => s3.on(S3.GetBucketTaggingCommand).rejects(e)],
  ["GetBucketLifecycleConfiguration", (e) => s3.on(S3.GetBucketLifecycleConfigurationCommand).rejects(e)],
  ["GetObject manifest.json", (e) => s3.on(S3.GetObjectCommand).rejects(e)],
  ["GetRole", (e) => iam.on(IAM.GetRoleCommand).rejects(e)],
  ["GetRolePolicy", (e) => iam.on(IAM.GetRolePolicyCommand).rejects(e)],
  ["GetQueueUrl", (e) => sqs.on(SQS.GetQueueUrlCommand).rejects(e)],
  ["GetQueueAttributes", (e) => sqs.on(SQS.GetQueueAttributesCommand).rejects(e)],
  ["GetFunction", (e) => lambda.on(L.GetFunctionCommand).rejects(e)],
  ["GetFunctionRecursionConfig", (e) => lambda.on(L.GetFunctionRecursionConfigCommand).rejects(e)],
  ["GetAlias", (e) => lambda.on(L.GetAliasCommand).rejects(e)],
  ["ListEventSourceMappings", (e) => lambda.on(L.ListEventSourceMappingsCommand).rejects(e)],
  ["GetProvisionedConcurrencyConfig", (e) => lambda.on(L.GetProvisionedConcurrencyConfigCommand).rejects(e)],
  ["GetFunctionConcurrency", (e) => lambda.on(L.GetFunctionConcurrencyCommand).rejects(e)],
  ["GetFunctionUrlConfig", (e) => lambda.on(L.GetFunctionUrlConfigCommand).rejects(e)],
  ["GetPolicy", (e) => lambda.on(L.GetPolicyCommand).rejects(e)],
];

describe("aws deploy contract: a refusal is never taken for a missing resource", { timeout: 30_000 }, () => {
  for (const [operation, refuse] of READS) {
    it(`AccessDenied on ${operation}: deploy rejects with a ProviderError naming it, and makes nothing after it`, async () => {
      refuse(accessDenied());
      const error = await deployApps([manifest], {}, fakeBundler()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as Error).message).toContain(`aws ${operation}`);
      expect((error as Error).message).toContain("AccessDeniedException");
      const requests = sent();
      const refused = requests.findIndex((c) => c.command === operation.split(" ")[0]);
      expect(refused).toBeGreaterThanOrEqual(0);
      expect(names(writes().filter((c) => c.order > (requests[refused]?.order ?? 0)))).toEqual([]);
    });
  }

  it("throttling on a write is a ProviderError naming the operation", async () => {
    sqs.on(SQS.CreateQueueCommand).rejects(awsError("ThrottlingException", 400, "Rate exceeded"));
    await expect(deployApps([manifest], {}, fakeBundler())).rejects.toThrow(
      /^aws CreateQueue faasade-main-aws-app-square-dlq failed: ThrottlingException: Rate exceeded$/,
    );
  });

  it("a network failure on a read is a ProviderError, not a missing function", async () => {
    await deployed();
    lambda.on(L.GetFunctionCommand).rejects(Object.assign(new Error("socket hang up"), { name: "TimeoutError" }));
    await expect(deployApps([manifest], {}, fakeBundler())).rejects.toThrow(ProviderError);
    expect(lambda).toHaveReceivedCommandTimes(L.CreateFunctionCommand, 0);
  });
});
