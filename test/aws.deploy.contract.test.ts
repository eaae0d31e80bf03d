// Contract tests of the AWS control plane (no emulator exists for it): deploy, redeploy,
// destroy and the autoscaler, against the SDK clients mocked by aws-sdk-client-mock (the
// control-plane test double of fixtures/aws-control-plane.ts where a deploy must read what an
// earlier one made). They assert the exact commands faasade sends and their inputs. The first
// deploy bundles the fixture for real; the others take a stand-in bundler (the bundle's own
// determinism is test/aws.bundle.test.ts's).
import * as IAM from "@aws-sdk/client-iam";
import * as L from "@aws-sdk/client-lambda";
import * as S3 from "@aws-sdk/client-s3";
import * as SQS from "@aws-sdk/client-sqs";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { NotFoundError, ProviderError } from "../src/core/errors.js";
import { type AppManifest, manifestOf } from "../src/core/manifest.js";
import { type AwsDeployOptions, deployApps, deployAws, destroyAws } from "../src/providers/aws/deploy/resources.js";
import { aws } from "../src/providers/aws/index.js";
import {
  ACCOUNT,
  FakeAccount,
  accessDenied,
  fakeBundler,
  fnArn,
  iam,
  lambda,
  names,
  s3,
  sent,
  sqs,
  writes,
} from "./fixtures/aws-control-plane.js";
import * as fixture from "./fixtures/aws-app.mjs";

process.env.AWS_REGION = "eu-west-1";
process.env.AWS_ACCESS_KEY_ID = "test";
process.env.AWS_SECRET_ACCESS_KEY = "test";

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/faasade-main-aws-app`;
const manifest: AppManifest = manifestOf(fixture.app);
const MODULE = "test/fixtures/aws-app.mjs";
const forget = () => {
  for (const m of [lambda, s3, sqs, iam]) m.resetHistory();
};

let account: FakeAccount;
beforeEach(() => {
  account = new FakeAccount().install();
});

describe("aws deploy contract", { timeout: 60_000 }, () => {
  it("a first deploy makes the bucket, a least-privilege role, and per function a queue with its dead-letter queue, a tagged Lambda with version, alias, event source mapping and, for web functions, a public URL", async () => {
    const deployed = await deployAws(MODULE, [manifest]);
    expect(deployed.map((d) => d.name)).toEqual(manifest.functions.map((f) => f.name));
    expect(deployed.find((d) => d.name === "hello")?.webUrl).toBe(
      "https://faasade-main-aws-app-hello.lambda-url.eu-west-1.on.aws/",
    );

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
      AuthType: "NONE",
      Qualifier: "live",
    });
    expect(lambda).toHaveReceivedCommandTimes(L.CreateFunctionUrlConfigCommand, 1);
    expect(lambda).toHaveReceivedCommandWith(L.AddPermissionCommand, {
      FunctionName: "faasade-main-aws-app-hello",
      Qualifier: "live",
      Action: "lambda:InvokeFunctionUrl",
      Principal: "*",
      FunctionUrlAuthType: "NONE",
    });
    const queues = sqs.commandCalls(SQS.CreateQueueCommand).map((c) => c.args[0].input);
    const main = queues.find((q) => q.QueueName === "faasade-main-aws-app-square");
    expect(JSON.parse(main?.Attributes?.RedrivePolicy ?? "{}")).toMatchObject({
      deadLetterTargetArn: `arn:aws:sqs:eu-west-1:${ACCOUNT}:faasade-main-aws-app-square-dlq`,
    });
  });

  it("a second deploy of the same code changes nothing", async () => {
    await deployApps([manifest], {}, fakeBundler());
    expect(writes().length).toBeGreaterThan(20); // the first deploy did write
    forget();
    await deployApps([manifest], {}, fakeBundler());
    expect(names(writes())).toEqual([]);
  });

  it("new code updates the function's code, tags the new hash, publishes a version and moves the alias", async () => {
    await deployApps([manifest], {}, fakeBundler("v1"));
    forget();
    const v2 = fakeBundler("v2");
    await deployApps([manifest], {}, v2);
    const n = manifest.functions.length;
    expect(lambda).toHaveReceivedCommandTimes(L.CreateFunctionCommand, 0);
    expect(lambda).toHaveReceivedCommandTimes(L.UpdateFunctionCodeCommand, n);
    expect(lambda).toHaveReceivedCommandWith(L.TagResourceCommand, {
      Resource: fnArn("faasade-main-aws-app-square"),
      Tags: { "faasade:code-hash": (await v2("arm64")).hash },
    });
    expect(lambda).toHaveReceivedCommandWith(L.UpdateAliasCommand, {
      FunctionName: "faasade-main-aws-app-square",
      Name: "live",
      FunctionVersion: "2",
    });
  });

  it("with an existing bucket, deploy creates no bucket, keeps its settings, writes under faasade/ and scopes the role there", async () => {
    account.buckets.set("team-data", { objects: new Map() });
    await deployApps([manifest], { bucket: "team-data" }, fakeBundler());
    expect(s3).toHaveReceivedCommandTimes(S3.CreateBucketCommand, 0);
    expect(s3).toHaveReceivedCommandTimes(S3.PutBucketLifecycleConfigurationCommand, 0);
    expect(s3).toHaveReceivedCommandTimes(S3.PutBucketTaggingCommand, 0);
    expect(s3).toHaveReceivedCommandWith(S3.PutObjectCommand, { Bucket: "team-data", Key: "faasade/main/aws-app/manifest.json" });
    const policy = JSON.parse(iam.commandCalls(IAM.PutRolePolicyCommand)[0]?.args[0].input.PolicyDocument ?? "{}");
    const bucketStatement = policy.Statement.find((st: { Sid: string }) => st.Sid === "Bucket");
    expect(bucketStatement.Resource).toEqual(["arn:aws:s3:::team-data/faasade/*"]);
    const created = lambda.commandCalls(L.CreateFunctionCommand)[0]?.args[0].input;
    expect(created?.Environment?.Variables).toMatchObject({ FAASADE_AWS_BUCKET: "team-data" });
  });
});

describe("aws destroy contract", { timeout: 60_000 }, () => {
  it("destroy removes event source mappings, functions, queues, the role and the emptied bucket: all deploy made", async () => {
    await deployApps([manifest], {}, fakeBundler());
    account.buckets.get("faasade-main-aws-app")?.objects.set("results/fc-1.json", "{}");
    forget();
    await destroyAws("aws-app", "main");
    const n = manifest.functions.length;
    expect(lambda).toHaveReceivedCommandTimes(L.DeleteEventSourceMappingCommand, n);
    expect(lambda).toHaveReceivedCommandTimes(L.DeleteFunctionCommand, n);
    expect(sqs).toHaveReceivedCommandTimes(SQS.DeleteQueueCommand, 2 * n);
    expect(iam).toHaveReceivedCommandWith(IAM.DeleteRoleCommand, { RoleName: "faasade-main-aws-app" });
    expect(s3).toHaveReceivedCommandWith(S3.DeleteBucketCommand, { Bucket: "faasade-main-aws-app" });
    const s3Writes = names(writes().filter((c) => c.service === "s3"));
    expect(s3Writes.slice(-2)).toEqual(["DeleteObject", "DeleteBucket"]); // the manifest last, then the bucket
    expect([
      account.functions.size,
      account.queues.size,
      account.roles.size,
      account.mappings.size,
      account.buckets.size,
    ]).toEqual([0, 0, 0, 0, 0]);
  });

  it("with the options deploy used (prefix, shared bucket, region, endpoints, credentials, roleArn) destroy finds and removes exactly what deploy made", async () => {
    const options: AwsDeployOptions = {
      prefix: "acme",
      bucket: "team-data",
      region: "us-west-2",
      endpoints: {
        lambda: "http://127.0.0.1:4010",
        sqs: "http://127.0.0.1:4011",
        s3: "http://127.0.0.1:4012",
        iam: "http://127.0.0.1:4013",
      },
      credentials: { accessKeyId: "AKIDDEPLOY", secretAccessKey: "secret" },
      roleArn: `arn:aws:iam::${ACCOUNT}:role/team-runner`,
    };
    const others = [
      "faasade/main/other-app/manifest.json",
      "faasade/main/aws-app2/manifest.json",
      "faasade/calls/fc-1.json",
      "notes.txt",
    ];
    account.buckets.set("team-data", { objects: new Map(others.map((k) => [k, "{}"])) });
    await deployApps([manifest], options, fakeBundler());
    account.buckets.get("team-data")?.objects.set("faasade/main/aws-app/settings/square.json", "{}");
    forget();
    await expect(destroyAws("aws-app", "main")).rejects.toThrow(NotFoundError); // not where the defaults look
    forget();
    await destroyAws("aws-app", "main", options);
    expect(account.functions.size).toBe(0);
    expect(account.queues.size).toBe(0);
    expect(lambda).toHaveReceivedCommandWith(L.DeleteFunctionCommand, { FunctionName: "acme-main-aws-app-square" });
    expect([...(account.buckets.get("team-data")?.objects.keys() ?? [])].sort()).toEqual([...others].sort());
    expect(s3).toHaveReceivedCommandTimes(S3.DeleteBucketCommand, 0);
    expect(iam).toHaveReceivedCommandTimes(IAM.DeleteRoleCommand, 0);
    expect(iam).toHaveReceivedCommandTimes(IAM.DeleteRolePolicyCommand, 0);
    for (const [m, endpoint] of [
      [lambda, "127.0.0.1:4010"],
      [sqs, "127.0.0.1:4011"],
      [s3, "127.0.0.1:4012"],
    ] as const) {
      const client = m.calls()[0]?.thisValue as {
        config: {
          region(): Promise<string>;
          credentials(): Promise<{ accessKeyId: string }>;
          endpoint?(): Promise<{ hostname: string; port?: number }>;
        };
      };
      expect(await client.config.region()).toBe("us-west-2");
      expect((await client.config.credentials()).accessKeyId).toBe("AKIDDEPLOY");
      const url = await client.config.endpoint?.();
      expect(`${url?.hostname}:${url?.port}`).toBe(endpoint);
    }
  });

  it("a function's own role (providerOptions.aws.role) is never removed", async () => {
    const own = `arn:aws:iam::${ACCOUNT}:role/square-runner`;
    const app = {
      ...manifest,
      functions: manifest.functions.map((f) =>
        f.name === "square" ? { ...f, options: { ...f.options, providerOptions: { aws: { role: own } } } } : f,
      ),
    };
    await deployApps([app], {}, fakeBundler());
    forget();
    await destroyAws("aws-app", "main");
    expect(names(sent().filter((c) => c.service === "iam" && c.command.startsWith("Delete")))).toEqual([
      "DeleteRolePolicy",
      "DeleteRole",
    ]);
    expect(iam.commandCalls(IAM.DeleteRoleCommand).map((c) => c.args[0].input.RoleName)).toEqual(["faasade-main-aws-app"]);
  });

  it("an app not deployed is NotFoundError saying where destroy looked", async () => {
    await expect(destroyAws("aws-app", "main", { prefix: "acme" })).rejects.toThrow(
      /^app "aws-app" \(environment "main"\) is not deployed on aws with prefix "acme" \(no s3:\/\/acme-main-aws-app\/manifest.json\)$/,
    );
  });

  it('AccessDenied reading the manifest is a ProviderError, never "not deployed"', async () => {
    await deployApps([manifest], {}, fakeBundler());
    s3.on(S3.GetObjectCommand).rejects(accessDenied());
    await expect(destroyAws("aws-app", "main")).rejects.toThrow(
      /^aws GetObject manifest\.json \(bucket faasade-main-aws-app\) failed: AccessDeniedException/,
    );
  });

  it("objects DeleteObjects could not delete are a ProviderError naming one, and the manifest stays for the next destroy", async () => {
    await deployApps([manifest], {}, fakeBundler());
    account.buckets.get("faasade-main-aws-app")?.objects.set("results/fc-1.json", "{}");
    s3.on(S3.DeleteObjectsCommand).resolves({
      Errors: [{ Key: "results/fc-1.json", Code: "AccessDenied", Message: "Access Denied" }],
    });
    const error = await destroyAws("aws-app", "main").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toBe(
      "aws DeleteObjects faasade-main-aws-app/results/fc-1.json failed: AccessDenied: Access Denied",
    );
    expect(account.buckets.get("faasade-main-aws-app")?.objects.has("manifest.json")).toBe(true);
    account.install();
    await destroyAws("aws-app", "main");
    expect(account.buckets.size).toBe(0);
  });
});

describe("aws autoscaler contract", () => {
  beforeEach(() => {
    lambda.reset().onAnyCommand().resolves({});
    s3.reset().onAnyCommand().resolves({});
  });
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
