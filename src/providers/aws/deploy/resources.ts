/**
 * `faasade deploy <file> --provider aws` and `faasade destroy <app> --provider aws`: makes or
 * updates, idempotently, what an app needs on AWS, and removes it all again. Every step reads
 * first and writes only what differs, so a second deploy of the same code changes nothing.
 * See docs/aws.md for the resources and their settings.
 */
import { ExecutionError } from "../../../core/errors.js";
import type { AppManifest, FunctionManifest } from "../../local/deploy/manifest.js";
import { type ClientOptions, clients, isMissing, providerError } from "../clients.js";
import { ALIAS, type AppRef, bucketName, functionName, keyPrefixOf, keysIn } from "../names.js";
import { bundle } from "./bundle.js";
import { TRUST_POLICY, rolePolicy } from "./policy.js";

export interface AwsDeployOptions extends ClientOptions {
  /** @default FAASADE_AWS_PREFIX, else "faasade" */
  prefix?: string;
  /** @default "nodejs22.x" */
  runtime?: "nodejs22.x" | "nodejs20.x";
  /** @default "arm64" */
  architecture?: "arm64" | "x86_64";
  /** Memory of functions that set no `memoryMb`. @default 1024 */
  memoryMb?: number;
  /** An existing execution role to use instead of the one faasade makes. */
  roleArn?: string;
  /**
   * An existing bucket to use for every app instead of one bucket per app: faasade keeps its
   * objects under `faasade/` there and leaves the bucket's settings (lifecycle included) alone.
   * @default FAASADE_AWS_BUCKET, else a bucket per app
   */
  bucket?: string;
  /** Packages to install for Lambda instead of bundling. */
  external?: string[];
  /** Days results are kept (the bucket's lifecycle). @default 7 */
  retentionDays?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface DeployedFunction {
  name: string;
  functionName: string;
  /** The function URL of a web function. */
  webUrl?: string | undefined;
}

/** How long the runtime may run past an attempt's timeout before Lambda stops it: the runtime's own timeout answers first. */
const LAMBDA_TIMEOUT_MARGIN_S = 1;
const LIFECYCLE_PREFIXES = ["results/", "chunks/", "calls/", "graph/", "cancel/", "payloads/"];

export async function deployAws(
  module: string,
  apps: AppManifest[],
  options: AwsDeployOptions = {},
): Promise<DeployedFunction[]> {
  const log = options.log ?? (() => {});
  const prefix = options.prefix ?? process.env.FAASADE_AWS_PREFIX ?? "faasade";
  const sdk = clients(options);
  const lambda = await sdk.lambda();
  const L = await import("@aws-sdk/client-lambda");
  const S = await import("@aws-sdk/client-s3");
  const Q = await import("@aws-sdk/client-sqs");
  const region = await lambda.config.region();
  log("bundling");
  const architecture = options.architecture ?? "arm64";
  const code = await bundle({ module, architecture, ...(options.external ? { external: options.external } : {}) });
  const out: DeployedFunction[] = [];
  const call = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw providerError(operation, err);
    }
  };

  for (const app of apps) {
    const shared = options.bucket ?? process.env.FAASADE_AWS_BUCKET;
    const ref: AppRef = { prefix, app: app.app, environment: app.environment, bucket: shared };
    const bucket = bucketName(ref);
    const keyPrefix = keyPrefixOf(ref);
    const manifestKey = keysIn(keyPrefix).manifest(ref);
    const tags = { "faasade:app": app.app, "faasade:env": app.environment };
    const namePrefix = `${prefix}-${app.environment}-${app.app}-`;

    log(`bucket ${bucket}`);
    const s3 = await sdk.s3();
    // A shared bucket is the user's: it must exist, and its settings are theirs.
    const haveBucket = await s3.send(new S.HeadBucketCommand({ Bucket: bucket })).then(
      () => true,
      (err: unknown) => {
        if (isMissing(err) || (err as { name?: string }).name === "NoSuchBucket") return false;
        throw providerError(`HeadBucket ${bucket}`, err);
      },
    );
    if (!haveBucket && shared !== undefined) {
      throw new ExecutionError(`the bucket ${JSON.stringify(shared)} given to use does not exist (or is not this account's)`);
    }
    if (!haveBucket) {
      await call(`CreateBucket ${bucket}`, () =>
        s3.send(
          new S.CreateBucketCommand({
            Bucket: bucket,
            ...(region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
          }),
        ),
      );
      await call("PutBucketTagging", () =>
        s3.send(
          new S.PutBucketTaggingCommand({
            Bucket: bucket,
            Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
          }),
        ),
      );
      const days = options.retentionDays ?? 7;
      await call("PutBucketLifecycleConfiguration", () =>
        s3.send(
          new S.PutBucketLifecycleConfigurationCommand({
            Bucket: bucket,
            LifecycleConfiguration: {
              Rules: LIFECYCLE_PREFIXES.map((p) => ({
                ID: `faasade-${p.slice(0, -1)}`,
                Status: "Enabled",
                Filter: { Prefix: p },
                Expiration: { Days: days },
              })),
            },
          }),
        ),
      );
    }
    const manifestBody = JSON.stringify(app);
    const current = await s3.send(new S.GetObjectCommand({ Bucket: bucket, Key: manifestKey })).then(
      async (r) => r.Body?.transformToString(),
      () => undefined,
    );
    if (current !== manifestBody) {
      await call("PutObject manifest.json", () =>
        s3.send(new S.PutObjectCommand({ Bucket: bucket, Key: manifestKey, Body: manifestBody })),
      );
    }

    const role =
      options.roleArn ??
      (await ensureRole(
        sdk,
        `${prefix}-${app.environment}-${app.app}`,
        (account) => rolePolicy({ region, account, bucket, keyPrefix, namePrefix }),
        tags,
        log,
      ));

    for (const fn of app.functions) {
      out.push(await ensureFunction(fn));
    }

    async function ensureFunction(fn: FunctionManifest): Promise<DeployedFunction> {
      const name = functionName(ref, fn.name);
      log(`function ${name}`);
      if (fn.options.timeoutMs > 899_000) {
        throw new ExecutionError(
          `function ${JSON.stringify(fn.name)}: Lambda runs at most 15 minutes; timeoutMs ${fn.options.timeoutMs} is too long for the aws provider`,
        );
      }
      const sqs = await sdk.sqs();
      const timeout = Math.ceil(fn.options.timeoutMs / 1000) + LAMBDA_TIMEOUT_MARGIN_S;
      // Queue: the dead-letter queue catches what fails to be processed at all (faasade's retries are separate).
      const queueArn = async (url: string) =>
        (await sqs.send(new Q.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }))).Attributes
          ?.QueueArn as string;
      const existingQueue = await sqs.send(new Q.GetQueueUrlCommand({ QueueName: name })).then(
        (r) => r.QueueUrl,
        () => undefined,
      );
      let queueUrl = existingQueue;
      if (queueUrl === undefined) {
        const dlq = await call("CreateQueue (dead letters)", () =>
          sqs.send(new Q.CreateQueueCommand({ QueueName: `${name}-dlq`, tags })),
        );
        const dlqArn = await queueArn(dlq.QueueUrl as string);
        const created = await call("CreateQueue", () =>
          sqs.send(
            new Q.CreateQueueCommand({
              QueueName: name,
              tags: { ...tags, "faasade:function": fn.name },
              Attributes: {
                VisibilityTimeout: String(Math.min(43_200, timeout * 6)),
                RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
              },
            }),
          ),
        );
        queueUrl = created.QueueUrl as string;
      }

      const env = {
        ...fn.options.env,
        FAASADE_APP: app.app,
        FAASADE_ENVIRONMENT: app.environment,
        FAASADE_FUNCTION: fn.name,
        FAASADE_PROVIDER: "aws",
        FAASADE_AWS_PREFIX: prefix,
        ...(shared === undefined ? {} : { FAASADE_AWS_BUCKET: shared }),
      };
      const config = {
        FunctionName: name,
        Runtime: options.runtime ?? "nodejs22.x",
        Role: role,
        Handler: fn.isGenerator ? "index.stream" : "index.handler",
        Timeout: timeout,
        MemorySize: fn.options.memoryMb ?? options.memoryMb ?? 1024,
        Environment: { Variables: env },
      } as const;
      const existing = await lambda.send(new L.GetFunctionCommand({ FunctionName: name })).then(
        (r) => r,
        (err: unknown) => {
          if ((err as { name?: string }).name === "ResourceNotFoundException") return undefined;
          throw providerError(`GetFunction ${name}`, err);
        },
      );
      let changed = false;
      let functionArn = existing?.Configuration?.FunctionArn;
      if (existing === undefined) {
        const created = await call("CreateFunction", () =>
          lambda.send(
            new L.CreateFunctionCommand({
              ...config,
              Architectures: [architecture],
              Code: { ZipFile: code.zip },
              Tags: { ...tags, "faasade:function": fn.name, "faasade:code-hash": code.hash },
            }),
          ),
        );
        functionArn = created.FunctionArn;
        await waitActive(name);
        await call("PutFunctionRecursionConfig", () =>
          lambda.send(new L.PutFunctionRecursionConfigCommand({ FunctionName: name, RecursiveLoop: "Allow" })),
        );
        changed = true;
      } else {
        const c = existing.Configuration;
        if (existing.Tags?.["faasade:code-hash"] !== code.hash) {
          await call("UpdateFunctionCode", () =>
            lambda.send(
              new L.UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: code.zip, Architectures: [architecture] }),
            ),
          );
          await waitUpdated(name);
          await call("TagResource", () =>
            lambda.send(new L.TagResourceCommand({ Resource: c?.FunctionArn, Tags: { "faasade:code-hash": code.hash } })),
          );
          changed = true;
        }
        const same =
          c?.Runtime === config.Runtime &&
          c?.Role === config.Role &&
          c?.Handler === config.Handler &&
          c?.Timeout === config.Timeout &&
          c?.MemorySize === config.MemorySize &&
          JSON.stringify(sortKeys(c?.Environment?.Variables ?? {})) === JSON.stringify(sortKeys(env));
        if (!same) {
          await call("UpdateFunctionConfiguration", () => lambda.send(new L.UpdateFunctionConfigurationCommand(config)));
          await waitUpdated(name);
          changed = true;
        }
      }
      const alias = await lambda.send(new L.GetAliasCommand({ FunctionName: name, Name: ALIAS })).then(
        (r) => r,
        () => undefined,
      );
      if (changed || alias === undefined) {
        const version = await call("PublishVersion", () => lambda.send(new L.PublishVersionCommand({ FunctionName: name })));
        if (alias === undefined) {
          await call("CreateAlias", () =>
            lambda.send(new L.CreateAliasCommand({ FunctionName: name, Name: ALIAS, FunctionVersion: version.Version })),
          );
        } else {
          await call("UpdateAlias", () =>
            lambda.send(new L.UpdateAliasCommand({ FunctionName: name, Name: ALIAS, FunctionVersion: version.Version })),
          );
        }
      }
      const aliasArn = `${functionArn}:${ALIAS}`;

      // Spawned inputs: the queue drives the alias, reporting partial batch failures.
      const arn = await queueArn(queueUrl);
      const concurrency = Math.min(1000, Math.max(2, fn.options.maxContainers ?? 1000));
      const mappings = await lambda.send(new L.ListEventSourceMappingsCommand({ EventSourceArn: arn, FunctionName: aliasArn }));
      const mapping = mappings.EventSourceMappings?.[0];
      if (mapping === undefined) {
        await call("CreateEventSourceMapping", () =>
          lambda.send(
            new L.CreateEventSourceMappingCommand({
              EventSourceArn: arn,
              FunctionName: aliasArn,
              // One input per invocation: each keeps its own timeout (timeoutMs + 1 s), and a slow
              // input never holds back others received with it.
              BatchSize: 1,
              FunctionResponseTypes: ["ReportBatchItemFailures"],
              ScalingConfig: { MaximumConcurrency: concurrency },
            }),
          ),
        );
      } else if (mapping.ScalingConfig?.MaximumConcurrency !== concurrency) {
        await call("UpdateEventSourceMapping", () =>
          lambda.send(
            new L.UpdateEventSourceMappingCommand({ UUID: mapping.UUID, ScalingConfig: { MaximumConcurrency: concurrency } }),
          ),
        );
      }

      // Capacity: keepWarm is provisioned concurrency on the alias, maxContainers reserved concurrency.
      const reserved = await lambda.send(new L.GetFunctionConcurrencyCommand({ FunctionName: name }));
      if (fn.options.maxContainers !== undefined && reserved.ReservedConcurrentExecutions !== fn.options.maxContainers) {
        await call("PutFunctionConcurrency", () =>
          lambda.send(
            new L.PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: fn.options.maxContainers }),
          ),
        );
      }
      if (fn.options.minContainers > 0) {
        const provisioned = await lambda
          .send(new L.GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: ALIAS }))
          .then(
            (r) => r.RequestedProvisionedConcurrentExecutions,
            () => undefined,
          );
        if (provisioned !== fn.options.minContainers) {
          await call("PutProvisionedConcurrencyConfig", () =>
            lambda.send(
              new L.PutProvisionedConcurrencyConfigCommand({
                FunctionName: name,
                Qualifier: ALIAS,
                ProvisionedConcurrentExecutions: fn.options.minContainers,
              }),
            ),
          );
        }
      }

      let webUrl: string | undefined;
      if (fn.options.web !== undefined) {
        const url = await lambda.send(new L.GetFunctionUrlConfigCommand({ FunctionName: name, Qualifier: ALIAS })).then(
          (r) => r.FunctionUrl,
          () => undefined,
        );
        webUrl =
          url ??
          (
            await call("CreateFunctionUrlConfig", () =>
              lambda.send(
                new L.CreateFunctionUrlConfigCommand({
                  FunctionName: name,
                  Qualifier: ALIAS,
                  AuthType: "AWS_IAM",
                  InvokeMode: "BUFFERED",
                }),
              ),
            )
          ).FunctionUrl;
      }
      return { name: fn.name, functionName: name, webUrl };
    }

    async function waitActive(name: string) {
      await call(`waiting for ${name} to be active`, () =>
        L.waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 300, minDelay: 1 }, { FunctionName: name }),
      );
    }
    async function waitUpdated(name: string) {
      await call(`waiting for ${name} to be updated`, () =>
        L.waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 300, minDelay: 1 }, { FunctionName: name }),
      );
    }
  }
  return out;
}

/** Removes what deploy made for an app: event source mappings, function URLs, functions, queues, the role, the bucket. */
export async function destroyAws(app: string, environment: string, options: AwsDeployOptions = {}): Promise<void> {
  const log = options.log ?? (() => {});
  const prefix = options.prefix ?? process.env.FAASADE_AWS_PREFIX ?? "faasade";
  const sdk = clients(options);
  const shared = options.bucket ?? process.env.FAASADE_AWS_BUCKET;
  const ref: AppRef = { prefix, app, environment, bucket: shared };
  const bucket = bucketName(ref);
  const manifestKey = keysIn(keyPrefixOf(ref)).manifest(ref);
  const S = await import("@aws-sdk/client-s3");
  const L = await import("@aws-sdk/client-lambda");
  const Q = await import("@aws-sdk/client-sqs");
  const s3 = await sdk.s3();
  const manifest = await s3.send(new S.GetObjectCommand({ Bucket: bucket, Key: manifestKey })).then(
    async (r) => JSON.parse((await r.Body?.transformToString()) ?? "null") as AppManifest,
    () => undefined,
  );
  if (manifest === undefined)
    throw new ExecutionError(
      `app ${JSON.stringify(app)} (environment ${JSON.stringify(environment)}) is not deployed on aws (no ${bucket}/${manifestKey})`,
    );
  const lambda = await sdk.lambda();
  const sqs = await sdk.sqs();
  const ignoreMissing = (err: unknown) => {
    const name = (err as { name?: string }).name;
    if (
      name !== "ResourceNotFoundException" &&
      name !== "QueueDoesNotExist" &&
      name !== "AWS.SimpleQueueService.NonExistentQueue" &&
      name !== "NoSuchEntity"
    )
      throw err;
  };
  for (const fn of manifest.functions) {
    const name = functionName(ref, fn.name);
    log(`removing ${name}`);
    const mappings = await lambda
      .send(new L.ListEventSourceMappingsCommand({ FunctionName: `${name}:${ALIAS}` }))
      .catch(() => ({ EventSourceMappings: [] }));
    for (const m of mappings.EventSourceMappings ?? [])
      await lambda.send(new L.DeleteEventSourceMappingCommand({ UUID: m.UUID })).catch(ignoreMissing);
    await lambda.send(new L.DeleteFunctionCommand({ FunctionName: name })).catch(ignoreMissing);
    for (const queue of [name, `${name}-dlq`]) {
      const url = await sqs.send(new Q.GetQueueUrlCommand({ QueueName: queue })).then(
        (r) => r.QueueUrl,
        () => undefined,
      );
      if (url !== undefined) await sqs.send(new Q.DeleteQueueCommand({ QueueUrl: url })).catch(ignoreMissing);
    }
  }
  if (options.roleArn === undefined) {
    const I = await import("@aws-sdk/client-iam");
    const iam = await sdk.iam();
    const roleName = `${prefix}-${environment}-${app}`;
    await iam.send(new I.DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: "faasade" })).catch(ignoreMissing);
    await iam.send(new I.DeleteRoleCommand({ RoleName: roleName })).catch(ignoreMissing);
  }
  // A bucket of the app's own goes whole; in a shared one, the app's manifest and settings go
  // (its calls' objects expire by the bucket's lifecycle: call ids do not say which app made them).
  const scope = shared === undefined ? undefined : manifestKey.slice(0, -"manifest.json".length);
  log(shared === undefined ? `emptying and removing ${bucket}` : `removing ${bucket}/${scope}`);
  for (;;) {
    const listed = await s3.send(
      new S.ListObjectsV2Command({ Bucket: bucket, ...(scope === undefined ? {} : { Prefix: scope }) }),
    );
    const objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key as string }));
    if (objects.length === 0) break;
    await s3.send(new S.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  }
  if (shared === undefined) await s3.send(new S.DeleteBucketCommand({ Bucket: bucket }));
}

/** The app's execution role, and its inline policy scoped to the account the role lives in. */
async function ensureRole(
  sdk: ReturnType<typeof clients>,
  roleName: string,
  policyFor: (account: string) => object,
  tags: Record<string, string>,
  log: (line: string) => void,
): Promise<string> {
  const I = await import("@aws-sdk/client-iam");
  const iam = await sdk.iam();
  const existing = await iam.send(new I.GetRoleCommand({ RoleName: roleName })).then(
    (r) => r.Role,
    (err: unknown) => {
      if ((err as { name?: string }).name === "NoSuchEntity") return undefined;
      throw providerError(`GetRole ${roleName}`, err);
    },
  );
  let arn = existing?.Arn;
  if (arn === undefined) {
    log(`role ${roleName}`);
    const created = await iam
      .send(
        new I.CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(TRUST_POLICY),
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      )
      .catch((err: unknown) => {
        throw providerError(`CreateRole ${roleName}`, err);
      });
    arn = created.Role?.Arn as string;
  }
  const document = JSON.stringify(policyFor(arn.split(":")[4] ?? ""));
  const current = await iam.send(new I.GetRolePolicyCommand({ RoleName: roleName, PolicyName: "faasade" })).then(
    (r) => decodeURIComponent(r.PolicyDocument ?? ""),
    () => undefined,
  );
  if (current === undefined || normalizedJson(current) !== document) {
    await iam
      .send(new I.PutRolePolicyCommand({ RoleName: roleName, PolicyName: "faasade", PolicyDocument: document }))
      .catch((err: unknown) => {
        throw providerError("PutRolePolicy", err);
      });
  }
  return arn;
}

/** A JSON document as faasade writes it, or undefined when it is not JSON. */
function normalizedJson(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
