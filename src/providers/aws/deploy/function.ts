/**
 * One function of an app on AWS: its queue (with a dead-letter queue), its Lambda (code by hash,
 * configuration, a published version behind the `live` alias), the event source mapping from the
 * queue, its concurrency settings and, for web functions, its function URL.
 */
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { ExecutionError } from "../../../core/errors.js";
import type { AppManifest, FunctionManifest } from "../../../core/manifest.js";
import { awsCall, providerError } from "../clients.js";
import { ALIAS, functionName } from "../names.js";
import type { Bundle } from "../../../cloud/bundle.js";
import type { AppScope, DeployContext } from "./context.js";

export interface DeployedFunction {
  name: string;
  functionName: string;
  /** The function URL of a web function. */
  webUrl?: string | undefined;
}

/** How long the runtime may run past an attempt's timeout before Lambda stops it: the runtime's own timeout answers first. */
const LAMBDA_TIMEOUT_MARGIN_S = 1;
/** Lambda runs 15 minutes at most; the margin above must fit. */
const MAX_TIMEOUT_MS = 899_000;

export interface FunctionTarget {
  app: AppManifest;
  scope: AppScope;
  role: string;
  code: Bundle;
  architecture: "arm64" | "x86_64";
  tags: Record<string, string>;
}

export async function deployFunction(ctx: DeployContext, t: FunctionTarget, fn: FunctionManifest): Promise<DeployedFunction> {
  const name = functionName(t.scope.ref, fn.name);
  ctx.log(`function ${name}`);
  if (fn.options.timeoutMs > MAX_TIMEOUT_MS) {
    throw new ExecutionError(
      `function ${JSON.stringify(fn.name)}: Lambda runs at most 15 minutes; timeoutMs ${fn.options.timeoutMs} is too long for the aws provider`,
    );
  }
  const timeout = Math.ceil(fn.options.timeoutMs / 1000) + LAMBDA_TIMEOUT_MARGIN_S;
  const queueArn = await ensureQueue(ctx, name, fn, timeout, t.tags);
  const lambda = await ctx.sdk.lambda();
  const functionArn = await ensureCode(ctx, lambda, t, fn, name, timeout);
  const aliasArn = `${functionArn}:${ALIAS}`;
  await ensureMapping(ctx, lambda, queueArn, aliasArn, fn);
  await ensureConcurrency(ctx, lambda, name, fn);
  const webUrl = fn.options.web === undefined ? undefined : await ensureUrl(ctx, lambda, name);
  return { name: fn.name, functionName: name, webUrl };
}

/** The function's queue: the dead-letter queue catches what fails to be processed at all (faasade's retries are separate). */
async function ensureQueue(
  ctx: DeployContext,
  name: string,
  fn: FunctionManifest,
  timeout: number,
  tags: Record<string, string>,
): Promise<string> {
  const { Q } = ctx;
  const sqs = await ctx.sdk.sqs();
  const arnOf = async (url: string) =>
    (await sqs.send(new Q.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }))).Attributes
      ?.QueueArn as string;
  const existing = await sqs.send(new Q.GetQueueUrlCommand({ QueueName: name })).then(
    (r) => r.QueueUrl,
    () => undefined,
  );
  if (existing !== undefined) return arnOf(existing);
  const dlq = await awsCall("CreateQueue (dead letters)", () =>
    sqs.send(new Q.CreateQueueCommand({ QueueName: `${name}-dlq`, tags })),
  );
  const dlqArn = await arnOf(dlq.QueueUrl as string);
  const created = await awsCall("CreateQueue", () =>
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
  return arnOf(created.QueueUrl as string);
}

/** The function's code and configuration; when either changed (or on creation), a new version behind the alias. Returns the function's ARN. */
async function ensureCode(
  ctx: DeployContext,
  lambda: LambdaClient,
  t: FunctionTarget,
  fn: FunctionManifest,
  name: string,
  timeout: number,
): Promise<string | undefined> {
  const { L } = ctx;
  const { app, scope, code, architecture } = t;
  const env = {
    ...fn.options.env,
    FAASADE_APP: app.app,
    FAASADE_ENVIRONMENT: app.environment,
    FAASADE_FUNCTION: fn.name,
    FAASADE_PROVIDER: "aws",
    FAASADE_AWS_PREFIX: ctx.prefix,
    ...(scope.shared === undefined ? {} : { FAASADE_AWS_BUCKET: scope.shared }),
  };
  const config = {
    FunctionName: name,
    Runtime: ctx.options.runtime ?? "nodejs22.x",
    Role: t.role,
    Handler: fn.isGenerator ? "index.stream" : "index.handler",
    Timeout: timeout,
    MemorySize: fn.options.memoryMb ?? ctx.options.memoryMb ?? 1024,
    Environment: { Variables: env },
  } as const;
  const wait = (what: "active" | "updated") =>
    awsCall(`waiting for ${name} to be ${what}`, () =>
      (what === "active" ? L.waitUntilFunctionActiveV2 : L.waitUntilFunctionUpdatedV2)(
        { client: lambda, maxWaitTime: 300, minDelay: 1 },
        { FunctionName: name },
      ),
    );
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
    const created = await awsCall("CreateFunction", () =>
      lambda.send(
        new L.CreateFunctionCommand({
          ...config,
          Architectures: [architecture],
          Code: { ZipFile: code.zip },
          Tags: { ...t.tags, "faasade:function": fn.name, "faasade:code-hash": code.hash },
        }),
      ),
    );
    functionArn = created.FunctionArn;
    await wait("active");
    await awsCall("PutFunctionRecursionConfig", () =>
      lambda.send(new L.PutFunctionRecursionConfigCommand({ FunctionName: name, RecursiveLoop: "Allow" })),
    );
    changed = true;
  } else {
    const c = existing.Configuration;
    if (existing.Tags?.["faasade:code-hash"] !== code.hash) {
      await awsCall("UpdateFunctionCode", () =>
        lambda.send(new L.UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: code.zip, Architectures: [architecture] })),
      );
      await wait("updated");
      await awsCall("TagResource", () =>
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
      await awsCall("UpdateFunctionConfiguration", () => lambda.send(new L.UpdateFunctionConfigurationCommand(config)));
      await wait("updated");
      changed = true;
    }
  }
  const alias = await lambda.send(new L.GetAliasCommand({ FunctionName: name, Name: ALIAS })).then(
    (r) => r,
    () => undefined,
  );
  if (changed || alias === undefined) {
    const version = await awsCall("PublishVersion", () => lambda.send(new L.PublishVersionCommand({ FunctionName: name })));
    const target = { FunctionName: name, Name: ALIAS, FunctionVersion: version.Version };
    if (alias === undefined) await awsCall("CreateAlias", () => lambda.send(new L.CreateAliasCommand(target)));
    else await awsCall("UpdateAlias", () => lambda.send(new L.UpdateAliasCommand(target)));
  }
  return functionArn;
}

/** Spawned inputs: the queue drives the alias, one input per invocation, reporting partial batch failures. */
async function ensureMapping(
  ctx: DeployContext,
  lambda: LambdaClient,
  queueArn: string,
  aliasArn: string,
  fn: FunctionManifest,
): Promise<void> {
  const { L } = ctx;
  const concurrency = Math.min(1000, Math.max(2, fn.options.maxContainers ?? 1000));
  const mappings = await lambda.send(new L.ListEventSourceMappingsCommand({ EventSourceArn: queueArn, FunctionName: aliasArn }));
  const mapping = mappings.EventSourceMappings?.[0];
  if (mapping === undefined) {
    await awsCall("CreateEventSourceMapping", () =>
      lambda.send(
        new L.CreateEventSourceMappingCommand({
          EventSourceArn: queueArn,
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
    await awsCall("UpdateEventSourceMapping", () =>
      lambda.send(
        new L.UpdateEventSourceMappingCommand({ UUID: mapping.UUID, ScalingConfig: { MaximumConcurrency: concurrency } }),
      ),
    );
  }
}

/** Capacity: keepWarm is provisioned concurrency on the alias, maxContainers reserved concurrency. */
async function ensureConcurrency(ctx: DeployContext, lambda: LambdaClient, name: string, fn: FunctionManifest): Promise<void> {
  const { L } = ctx;
  const { maxContainers, minContainers } = fn.options;
  const reserved = await lambda.send(new L.GetFunctionConcurrencyCommand({ FunctionName: name }));
  if (maxContainers !== undefined && reserved.ReservedConcurrentExecutions !== maxContainers) {
    await awsCall("PutFunctionConcurrency", () =>
      lambda.send(new L.PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: maxContainers })),
    );
  }
  if (minContainers === 0) return;
  const provisioned = await lambda
    .send(new L.GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: ALIAS }))
    .then(
      (r) => r.RequestedProvisionedConcurrentExecutions,
      () => undefined,
    );
  if (provisioned !== minContainers) {
    await awsCall("PutProvisionedConcurrencyConfig", () =>
      lambda.send(
        new L.PutProvisionedConcurrencyConfigCommand({
          FunctionName: name,
          Qualifier: ALIAS,
          ProvisionedConcurrentExecutions: minContainers,
        }),
      ),
    );
  }
}

/** A web function's URL on the alias, IAM-authenticated. */
async function ensureUrl(ctx: DeployContext, lambda: LambdaClient, name: string): Promise<string | undefined> {
  const { L } = ctx;
  const url = await lambda.send(new L.GetFunctionUrlConfigCommand({ FunctionName: name, Qualifier: ALIAS })).then(
    (r) => r.FunctionUrl,
    () => undefined,
  );
  if (url !== undefined) return url;
  const created = await awsCall("CreateFunctionUrlConfig", () =>
    lambda.send(
      new L.CreateFunctionUrlConfigCommand({ FunctionName: name, Qualifier: ALIAS, AuthType: "AWS_IAM", InvokeMode: "BUFFERED" }),
    ),
  );
  return created.FunctionUrl;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
