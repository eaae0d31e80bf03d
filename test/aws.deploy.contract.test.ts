// Contract tests of the AWS control plane (no emulator exists for it): deploy, redeploy,
// destroy and the autoscaler, against the SDK clients mocked by aws-sdk-client-mock. They
// assert the exact commands faasade sends and their inputs.
import * as IAM from "@aws-sdk/client-iam";
import * as L from "@aws-sdk/client-lambda";
import * as S3 from "@aws-sdk/client-s3";
import * as SQS from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { deployAws, destroyAws } from "../src/providers/aws/deploy/resources.js";
import { aws } from "../src/providers/aws/index.js";
import { type AppManifest, manifestOf } from "../src/core/manifest.js";
import * as fixture from "./fixtures/aws-app.mjs";

process.env.AWS_REGION = "eu-west-1";
process.env.AWS_ACCESS_KEY_ID = "test";
process.env.AWS_SECRET_ACCESS_KEY = "test";

const lambda = mockClient(L.LambdaClient);
const s3 = mockClient(S3.S3Client);
const sqs = mockClient(SQS.SQSClient);
const iam = mockClient(IAM.IAMClient);
const ACCOUNT = "123456789012";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/faasade-main-aws-app`;
const manifest: AppManifest = manifestOf(fixture.app);
const MODULE = "test/fixtures/aws-app.mjs";

const error = (name: string) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: name === "NotFound" ? 404 : 400 } });
const fnArn = (name: string) => `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${name}`;
const body = (text: string) => ({ Body: { transformToString: async () => text } }) as never;

function freshAccount() {
  s3.on(S3.HeadBucketCommand).rejects(error("NotFound"));
  s3.on(S3.GetObjectCommand).rejects(error("NoSuchKey"));
  iam.on(IAM.GetRoleCommand).rejects(error("NoSuchEntity"));
  iam.on(IAM.CreateRoleCommand).resolves({ Role: { Arn: ROLE_ARN } as never });
  iam.on(IAM.GetRolePolicyCommand).rejects(error("NoSuchEntity"));
  sqs.on(SQS.GetQueueUrlCommand).rejects(error("QueueDoesNotExist"));
  sqs
    .on(SQS.CreateQueueCommand)
    .callsFake(async (input: { QueueName: string }) => ({ QueueUrl: `https://sqs/${input.QueueName}` }));
  sqs.on(SQS.GetQueueAttributesCommand).callsFake(async (input: { QueueUrl: string }) => ({
    Attributes: { QueueArn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:${input.QueueUrl.split("/").pop()}` },
  }));
  const created = new Set<string>();
  lambda.on(L.GetFunctionCommand).callsFake(async (input: { FunctionName: string }) => {
    if (!created.has(input.FunctionName)) throw error("ResourceNotFoundException");
    return { Configuration: { State: "Active", LastUpdateStatus: "Successful" } };
  });
  lambda.on(L.CreateFunctionCommand).callsFake(async (input: { FunctionName: string }) => {
    created.add(input.FunctionName);
    return { FunctionArn: fnArn(input.FunctionName) };
  });
  lambda.on(L.GetAliasCommand).rejects(error("ResourceNotFoundException"));
  lambda.on(L.PublishVersionCommand).resolves({ Version: "1" });
  lambda.on(L.ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [] });
  lambda.on(L.GetFunctionConcurrencyCommand).resolves({});
  lambda.on(L.GetProvisionedConcurrencyConfigCommand).rejects(error("ProvisionedConcurrencyConfigNotFoundException"));
  lambda.on(L.GetFunctionUrlConfigCommand).rejects(error("ResourceNotFoundException"));
  lambda.on(L.CreateFunctionUrlConfigCommand).resolves({ FunctionUrl: "https://abc.lambda-url.eu-west-1.on.aws/" });
}

/** An account where the app's bucket, role and queues exist (what a first deploy left). */
function deployedAccount() {
  s3.on(S3.HeadBucketCommand).resolves({});
  s3.on(S3.GetObjectCommand).resolves(body(JSON.stringify(manifest)));
  iam.on(IAM.GetRoleCommand).resolves({ Role: { Arn: ROLE_ARN } as never });
  sqs
    .on(SQS.GetQueueUrlCommand)
    .callsFake(async (input: { QueueName: string }) => ({ QueueUrl: `https://sqs/${input.QueueName}` }));
  sqs.on(SQS.GetQueueAttributesCommand).callsFake(async (input: { QueueUrl: string }) => ({
    Attributes: { QueueArn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:${input.QueueUrl.split("/").pop()}` },
  }));
}

/** Every mock answers {} unless a test says otherwise (an unmocked command would answer nothing). */
function resetAll() {
  lambda.reset().onAnyCommand().resolves({});
  s3.reset().onAnyCommand().resolves({});
  sqs.reset().onAnyCommand().resolves({});
  iam.reset().onAnyCommand().resolves({});
}
beforeEach(resetAll);

/** Names of the commands sent that change something. */
const writesSent = () =>
  [lambda, s3, sqs, iam].flatMap((m) =>
    m
      .calls()
      .map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name)
      .filter((n) => /^(Create|Update|Put|Publish|Delete|Tag)/.test(n)),
  );

describe("aws deploy contract", { timeout: 60_000 }, () => {
  it("a first deploy makes the bucket, a least-privilege role, and per function a queue with its dead-letter queue, a tagged Lambda with version, alias, event source mapping and, for web functions, an IAM-authenticated URL", async () => {
    freshAccount();
    const deployed = await deployAws(MODULE, [manifest]);
    expect(deployed.map((d) => d.name)).toEqual(manifest.functions.map((f) => f.name));
    expect(deployed.find((d) => d.name === "hello")?.webUrl).toBe("https://abc.lambda-url.eu-west-1.on.aws/");

    expect(s3).toHaveReceivedCommandWith(S3.CreateBucketCommand, {
      Bucket: "faasade-main-aws-app",
      CreateBucketConfiguration: { LocationConstraint: "eu-west-1" as never },
    });
    const lifecycle = s3.commandCalls(S3.PutBucketLifecycleConfigurationCommand)[0]?.args[0].input;
    expect(lifecycle?.LifecycleConfiguration?.Rules?.map((r) => [r.Filter?.Prefix, r.Expiration?.Days])).toContainEqual([
      "results/",
      7,
    ]);
    expect(s3).toHaveReceivedCommandWith(S3.PutObjectCommand, { Key: "manifest.json", Body: JSON.stringify(manifest) });

    const policy = JSON.parse(iam.commandCalls(IAM.PutRolePolicyCommand)[0]?.args[0].input.PolicyDocument ?? "{}");
    const resources = policy.Statement.flatMap((s: { Resource: string[] }) => s.Resource);
    const actions = policy.Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions.some((a: string) => a.endsWith(":*") || a === "*")).toBe(false);
    for (const r of resources) expect(r).toMatch(/faasade-main-aws-app/);
    expect(resources.some((r: string) => r.includes(ACCOUNT))).toBe(true);

    const creates = lambda.commandCalls(L.CreateFunctionCommand).map((c) => c.args[0].input);
    expect(creates).toHaveLength(manifest.functions.length);
    const square = creates.find((c) => c.FunctionName === "faasade-main-aws-app-square");
    expect(square).toMatchObject({
      Runtime: "nodejs22.x",
      Role: ROLE_ARN,
      Handler: "index.handler",
      Timeout: 301,
      Architectures: ["arm64"],
      Tags: { "faasade:app": "aws-app", "faasade:env": "main", "faasade:function": "square" },
    });
    expect(square?.Tags?.["faasade:code-hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(square?.Environment?.Variables).toMatchObject({
      FAASADE_APP: "aws-app",
      FAASADE_FUNCTION: "square",
      FAASADE_PROVIDER: "aws",
    });
    expect(creates.find((c) => c.FunctionName === "faasade-main-aws-app-count")?.Handler).toBe("index.stream");
    expect(lambda).toHaveReceivedCommandWith(L.PutFunctionRecursionConfigCommand, { RecursiveLoop: "Allow" });
    expect(lambda).toHaveReceivedCommandWith(L.CreateAliasCommand, {
      FunctionName: "faasade-main-aws-app-square",
      Name: "live",
      FunctionVersion: "1",
    });
    expect(lambda).toHaveReceivedCommandWith(L.CreateEventSourceMappingCommand, {
      EventSourceArn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:faasade-main-aws-app-square`,
      FunctionName: `${fnArn("faasade-main-aws-app-square")}:live`,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BatchSize: 1,
    });
    expect(lambda).toHaveReceivedCommandWith(L.CreateFunctionUrlConfigCommand, {
      FunctionName: "faasade-main-aws-app-hello",
      AuthType: "AWS_IAM",
      Qualifier: "live",
    });
    expect(lambda).toHaveReceivedCommandTimes(L.CreateFunctionUrlConfigCommand, 1);
    const queues = sqs.commandCalls(SQS.CreateQueueCommand).map((c) => c.args[0].input);
    const main = queues.find((q) => q.QueueName === "faasade-main-aws-app-square");
    expect(JSON.parse(main?.Attributes?.RedrivePolicy ?? "{}")).toMatchObject({
      deadLetterTargetArn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:faasade-main-aws-app-square-dlq`,
    });
  });

  it("a second deploy of the same code changes nothing", async () => {
    freshAccount();
    await deployAws(MODULE, [manifest]);
    const creates = lambda.commandCalls(L.CreateFunctionCommand).map((c) => c.args[0].input);
    const policy = iam.commandCalls(IAM.PutRolePolicyCommand)[0]?.args[0].input.PolicyDocument;
    expect(writesSent().length).toBeGreaterThan(20); // the first deploy did write
    resetAll();
    deployedAccount();
    iam.on(IAM.GetRolePolicyCommand).resolves({ PolicyDocument: encodeURIComponent(policy ?? "") } as never);
    lambda.on(L.GetFunctionCommand).callsFake(async (input: { FunctionName: string }) => {
      const c = creates.find((x) => x.FunctionName === input.FunctionName);
      return {
        Configuration: { ...c, FunctionArn: fnArn(input.FunctionName), Environment: { Variables: c?.Environment?.Variables } },
        Tags: c?.Tags,
      };
    });
    lambda.on(L.GetAliasCommand).resolves({ FunctionVersion: "1" });
    lambda
      .on(L.ListEventSourceMappingsCommand)
      .resolves({ EventSourceMappings: [{ UUID: "u", ScalingConfig: { MaximumConcurrency: 1000 } }] });
    lambda.on(L.GetFunctionConcurrencyCommand).resolves({});
    lambda.on(L.GetFunctionUrlConfigCommand).resolves({ FunctionUrl: "https://abc.lambda-url.eu-west-1.on.aws/" });

    await deployAws(MODULE, [manifest]);
    expect(writesSent()).toEqual([]);
  });

  it("new code updates the function's code, tags the new hash, publishes a version and moves the alias", async () => {
    freshAccount();
    await deployAws(MODULE, [manifest]);
    const creates = lambda.commandCalls(L.CreateFunctionCommand).map((c) => c.args[0].input);
    resetAll();
    deployedAccount();
    lambda.on(L.GetFunctionCommand).callsFake(async (input: { FunctionName: string }) => {
      const c = creates.find((x) => x.FunctionName === input.FunctionName);
      return {
        Configuration: { ...c, FunctionArn: fnArn(input.FunctionName), State: "Active", LastUpdateStatus: "Successful" },
        Tags: { ...c?.Tags, "faasade:code-hash": "0".repeat(64) }, // what an older deploy left
      };
    });
    lambda.on(L.GetAliasCommand).resolves({ FunctionVersion: "1" });
    lambda.on(L.PublishVersionCommand).resolves({ Version: "2" });
    lambda
      .on(L.ListEventSourceMappingsCommand)
      .resolves({ EventSourceMappings: [{ UUID: "u", ScalingConfig: { MaximumConcurrency: 1000 } }] });
    lambda.on(L.GetFunctionUrlConfigCommand).resolves({ FunctionUrl: "https://abc.lambda-url.eu-west-1.on.aws/" });
    await deployAws(MODULE, [manifest]);
    const n = manifest.functions.length;
    expect(lambda).toHaveReceivedCommandTimes(L.CreateFunctionCommand, 0);
    expect(lambda).toHaveReceivedCommandTimes(L.UpdateFunctionCodeCommand, n);
    expect(lambda).toHaveReceivedCommandWith(L.TagResourceCommand, {
      Tags: { "faasade:code-hash": creates[0]?.Tags?.["faasade:code-hash"] as string },
    });
    expect(lambda).toHaveReceivedCommandWith(L.UpdateAliasCommand, {
      FunctionName: "faasade-main-aws-app-square",
      Name: "live",
      FunctionVersion: "2",
    });
  });

  it("with an existing bucket, deploy creates no bucket, keeps its settings, writes under faasade/ and scopes the role there", async () => {
    freshAccount();
    s3.on(S3.HeadBucketCommand).resolves({});
    await deployAws(MODULE, [manifest], { bucket: "team-data" });
    expect(s3).toHaveReceivedCommandTimes(S3.CreateBucketCommand, 0);
    expect(s3).toHaveReceivedCommandTimes(S3.PutBucketLifecycleConfigurationCommand, 0);
    expect(s3).toHaveReceivedCommandWith(S3.PutObjectCommand, { Bucket: "team-data", Key: "faasade/main/aws-app/manifest.json" });
    const policy = JSON.parse(iam.commandCalls(IAM.PutRolePolicyCommand)[0]?.args[0].input.PolicyDocument ?? "{}");
    const bucketStatement = policy.Statement.find((st: { Sid: string }) => st.Sid === "Bucket");
    expect(bucketStatement.Resource).toEqual(["arn:aws:s3:::team-data/faasade/*"]);
    const created = lambda.commandCalls(L.CreateFunctionCommand)[0]?.args[0].input;
    expect(created?.Environment?.Variables).toMatchObject({ FAASADE_AWS_BUCKET: "team-data" });
  });

  it("with an existing bucket, destroy removes the app's objects there and keeps the bucket", async () => {
    s3.on(S3.GetObjectCommand).resolves(body(JSON.stringify(manifest)));
    s3.on(S3.ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: "faasade/main/aws-app/manifest.json" }] })
      .resolves({ Contents: [] });
    await destroyAws("aws-app", "main", { bucket: "team-data" });
    expect(s3).toHaveReceivedCommandWith(S3.ListObjectsV2Command, { Bucket: "team-data", Prefix: "faasade/main/aws-app/" });
    expect(s3).toHaveReceivedCommandTimes(S3.DeleteBucketCommand, 0);
  });

  it("destroy removes event source mappings, functions, queues, the role and the emptied bucket", async () => {
    s3.on(S3.GetObjectCommand).resolves(body(JSON.stringify(manifest)));
    s3.on(S3.ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: "results/fc-1.json" }] })
      .resolves({ Contents: [] });
    lambda.on(L.ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [{ UUID: "esm-1" }] });
    sqs
      .on(SQS.GetQueueUrlCommand)
      .callsFake(async (input: { QueueName: string }) => ({ QueueUrl: `https://sqs/${input.QueueName}` }));
    await destroyAws("aws-app", "main");
    const n = manifest.functions.length;
    expect(lambda).toHaveReceivedCommandTimes(L.DeleteEventSourceMappingCommand, n);
    expect(lambda).toHaveReceivedCommandTimes(L.DeleteFunctionCommand, n);
    expect(sqs).toHaveReceivedCommandTimes(SQS.DeleteQueueCommand, 2 * n);
    expect(iam).toHaveReceivedCommandWith(IAM.DeleteRoleCommand, { RoleName: "faasade-main-aws-app" });
    expect(s3).toHaveReceivedCommandWith(S3.DeleteObjectsCommand, { Delete: { Objects: [{ Key: "results/fc-1.json" }] } });
    expect(s3).toHaveReceivedCommandWith(S3.DeleteBucketCommand, { Bucket: "faasade-main-aws-app" });
  });
});

describe("aws autoscaler contract", () => {
  it("keepWarm(2) is provisioned concurrency 2 on the alias and keepWarm(0) removes it; maxContainers is reserved concurrency; the rest is reported unsupported", async () => {
    s3.on(S3.PutObjectCommand).resolves({});
    const provider = aws();
    const spec = fixture.square.definition().spec;
    const settings = { minContainers: 2, maxContainers: 10, bufferContainers: 1, scaledownWindowMs: 60_000 };
    const effective = await provider.updateAutoscaler?.(spec, settings);
    expect(lambda).toHaveReceivedCommandWith(L.PutProvisionedConcurrencyConfigCommand, {
      FunctionName: "faasade-main-aws-app-square",
      Qualifier: "live",
      ProvisionedConcurrentExecutions: 2,
    });
    expect(lambda).toHaveReceivedCommandWith(L.PutFunctionConcurrencyCommand, { ReservedConcurrentExecutions: 10 });
    expect(effective?.unsupported).toEqual(["bufferContainers", "scaledownWindowMs"]);
    await provider.updateAutoscaler?.(spec, { ...settings, minContainers: 0 });
    expect(lambda).toHaveReceivedCommandWith(L.DeleteProvisionedConcurrencyConfigCommand, {
      FunctionName: "faasade-main-aws-app-square",
      Qualifier: "live",
    });
  });
});
