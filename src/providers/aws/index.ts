/**
 * @module
 * The AWS provider (`faasade/aws`): functions run in Lambda. `remote` and map inputs are
 * Lambda invokes of the function's `live` alias (at most `maxInFlight` at once from this
 * process), `remoteGen` a streamed invoke, `spawn` an SQS message whose result lands in the
 * app's S3 bucket, `keepWarm` provisioned concurrency on the alias and `maxContainers` reserved
 * concurrency. Names follow names.ts, so any process finds an app from its name.
 */
import QuickLRU from "quick-lru";
import { InvalidError, NotFoundError, describe } from "../../core/errors.js";
import type {
  AutoscalerSettings,
  EffectiveAutoscaler,
  FunctionSpec,
  FunctionStats,
  Input,
  OutcomeSink,
  Provider,
} from "../../core/provider.js";
import { type AppManifest, specOf } from "../../core/manifest.js";
import type { AwsDeployOptions } from "./deploy/resources.js";
import { REMEMBERED_CALLS, awsCalls } from "./calls.js";
import { type ClientOptions, awsCall, clients, isMissing, providerError } from "./clients.js";
import { toEnvelope } from "./envelope.js";
import { invokeOnce, invokeStream } from "./invoke.js";
import { fanOut } from "./fanout.js";
import { INVOKE_INLINE_BYTES, QUEUE_INLINE_BYTES, offloadArgs } from "./payloads.js";
import { sqsBatcher } from "./sqs-batch.js";
import { ALIAS, type AppRef, bucketName, functionName, keyPrefixOf, keysIn } from "./names.js";

export interface AwsOptions extends ClientOptions, Omit<AwsDeployOptions, keyof ClientOptions | "log" | "prefix"> {
  /** Prefix of every resource name. @default FAASADE_AWS_PREFIX, else "faasade" */
  prefix?: string;
  /** Lambda invokes in flight at once from this process (map inputs beyond wait). @default 64 */
  maxInFlight?: number;
  /**
   * A map whose first batch has at least this many inputs goes through SQS (fan-out) instead of
   * one invoke per input; 1 000 is a map's first batch at most. @default never (docs/aws.md, "Maps")
   */
  fanOutFrom?: number;
  /** How long spawned results are kept. @default 7 days */
  retentionMs?: number;
}

export interface AwsProvider extends Provider {
  lookup(app: string, environment: string, name: string): Promise<FunctionSpec>;
  /** What `faasade deploy --provider aws` uses for an app whose provider this is. */
  readonly deployOptions: AwsDeployOptions;
}

const SEVEN_DAYS = 7 * 24 * 3600 * 1000;
/**
 * Maps take invokes unless told otherwise: on the offline backend invokes measured 3–8× faster
 * than SQS fan-out at every size tried (docs/aws.md, "Maps").
 */
export const FANOUT_MIN_INPUTS = Number.POSITIVE_INFINITY;

export function aws(options: AwsOptions = {}): AwsProvider {
  if (options === null || typeof options !== "object")
    throw new InvalidError(`aws: options must be an object, got ${describe(options)}`);
  const prefix = options.prefix ?? process.env.FAASADE_AWS_PREFIX ?? "faasade";
  const maxInFlight = options.maxInFlight ?? 64;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new InvalidError(`aws: maxInFlight must be an integer ≥ 1, got ${describe(maxInFlight)}`);
  }
  const sdk = clients(options);
  const manifests = new Map<string, Promise<AppManifest | undefined>>();
  const queues = new Map<string, Promise<string>>();
  const callBuckets = new QuickLRU<string, string>({ maxSize: REMEMBERED_CALLS });
  const inFlight = new Map<string, AbortController>();
  let running = 0;
  const waiting: (() => void)[] = [];
  const slot = async () => {
    if (running >= maxInFlight) await new Promise<void>((r) => waiting.push(r));
    running++;
  };
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  // An existing bucket, if given, holds every app's objects under "faasade/".
  const sharedBucket = options.bucket ?? process.env.FAASADE_AWS_BUCKET;
  const keyPrefix = keyPrefixOf({ bucket: sharedBucket });
  const k = keysIn(keyPrefix);
  const refOf = (fn: { app: string; environment: string }): AppRef => ({
    prefix,
    app: fn.app,
    environment: fn.environment,
    bucket: sharedBucket,
  });

  const readManifest = (ref: AppRef) => {
    const bucket = bucketName(ref);
    const id = `${bucket}/${k.manifest(ref)}`;
    let found = manifests.get(id);
    if (found === undefined) {
      found = (async () => {
        const s3 = await sdk.s3();
        const { GetObjectCommand } = await import("@aws-sdk/client-s3");
        try {
          const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: k.manifest(ref) }));
          return JSON.parse((await got.Body?.transformToString()) ?? "null") as AppManifest;
        } catch (err) {
          if (isMissing(err) || (err as { name?: string }).name === "NoSuchBucket") return undefined;
          throw providerError(`GetObject ${id}`, err);
        }
      })();
      manifests.set(id, found);
      found.then(
        (m) => m === undefined && manifests.delete(id),
        () => manifests.delete(id),
      );
    }
    return found;
  };

  const queueUrl = (ref: AppRef, fn: string) => {
    const name = functionName(ref, fn);
    let url = queues.get(name);
    if (url === undefined) {
      url = (async () => {
        const { GetQueueUrlCommand } = await import("@aws-sdk/client-sqs");
        const sqs = await sdk.sqs();
        return (await awsCall(`GetQueueUrl ${name}`, () => sqs.send(new GetQueueUrlCommand({ QueueName: name }))))
          .QueueUrl as string;
      })();
      queues.set(name, url);
      url.catch(() => queues.delete(name));
    }
    return url;
  };

  const fanOutFrom = options.fanOutFrom ?? FANOUT_MIN_INPUTS;
  const send = sqsBatcher(sdk);
  const fan = fanOut(sdk, k, send);
  /** The path each map takes, by call id, decided on its first batch. */
  const paths = new QuickLRU<string, "invoke" | "queue">({ maxSize: REMEMBERED_CALLS });
  const pathOf = (fn: FunctionSpec, inputs: readonly Input[]): "invoke" | "queue" => {
    const callId = inputs[0]?.callId ?? "";
    let path = paths.get(callId);
    if (path === undefined) {
      // A large map of a plain function may go through the queue (fanOutFrom); a generator
      // streams, and calls and small maps are invokes.
      path = !fn.isGenerator && fn.options.web === undefined && inputs.length >= fanOutFrom ? "queue" : "invoke";
      if (inputs.length > 1) paths.set(callId, path);
    }
    return path;
  };
  const queueInputs = (fn: FunctionSpec, inputs: readonly Input[], sink: OutcomeSink) => {
    const ref = refOf(fn);
    const bucket = bucketName(ref);
    void (async () => {
      const target = { bucket, queueUrl: await queueUrl(ref, fn.name) };
      const envelopes = await Promise.all(
        inputs.map((input) =>
          offloadArgs(
            sdk,
            {
              ...toEnvelope(fn, input, bucket, keyPrefix),
              spawn: { ...target, retentionMs: options.retentionMs ?? SEVEN_DAYS, map: true },
            },
            bucket,
            QUEUE_INLINE_BYTES,
          ),
        ),
      );
      fan.submit(envelopes, inputs, sink, target);
    })().catch((err: unknown) => {
      for (const input of inputs) {
        sink.outcome(input, {
          inputId: input.inputId,
          attempt: input.attempt,
          status: "FAILURE",
          message: (err as Error).message,
        });
      }
    });
  };

  const calls = awsCalls({
    send,
    clients: sdk,
    prefix,
    keys: k,
    keyPrefix,
    bucket: sharedBucket,
    retentionMs: options.retentionMs ?? SEVEN_DAYS,
    queueUrl,
    remember: (callId, bucket) => callBuckets.set(callId, bucket),
    async bucketOf(callId) {
      const known = callBuckets.get(callId);
      if (known !== undefined) return known;
      // A call made by another process: look for its record in the shared bucket, or in this
      // prefix's app buckets.
      const s3 = await sdk.s3();
      const { ListBucketsCommand, HeadObjectCommand } = await import("@aws-sdk/client-s3");
      const buckets =
        sharedBucket !== undefined ? [{ Name: sharedBucket }] : ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []);
      for (const { Name } of buckets) {
        if (Name === undefined || (sharedBucket === undefined && !Name.startsWith(`${prefix}-`))) continue;
        try {
          await s3.send(new HeadObjectCommand({ Bucket: Name, Key: k.call(callId) }));
          callBuckets.set(callId, Name);
          return Name;
        } catch (err) {
          if (!isMissing(err)) throw providerError(`HeadObject ${k.call(callId)}`, err);
        }
      }
      return undefined;
    },
  });

  const settingsKey = (fn: FunctionSpec) => k.settings(fn, fn.name);

  return {
    name: "aws",
    canTerminateContainers: false,
    deployOptions: { ...options, prefix },
    calls,
    async lookup(app, environment, name) {
      const manifest = await readManifest(refOf({ app, environment }));
      if (manifest === undefined) {
        throw new NotFoundError(
          `app ${JSON.stringify(app)} (environment ${JSON.stringify(environment)}) is not deployed on aws (prefix ${JSON.stringify(prefix)})`,
        );
      }
      const fn = manifest.functions.find((f) => f.name === name);
      if (fn === undefined) throw new NotFoundError(`app ${JSON.stringify(app)} has no function ${JSON.stringify(name)} on aws`);
      return specOf(manifest, fn);
    },
    submit(fn: FunctionSpec, inputs: readonly Input[], sink: OutcomeSink): void {
      if (pathOf(fn, inputs) === "queue") {
        queueInputs(fn, inputs, sink);
        return;
      }
      const name = functionName(refOf(fn), fn.name);
      for (const input of inputs) {
        const controller = new AbortController();
        inFlight.set(input.inputId, controller);
        void (async () => {
          await slot();
          try {
            if (controller.signal.aborted) return;
            const lambda = await sdk.lambda();
            const bucket = bucketName(refOf(fn));
            const envelope = await offloadArgs(sdk, toEnvelope(fn, input, bucket, keyPrefix), bucket, INVOKE_INLINE_BYTES);
            const outcome = fn.isGenerator
              ? await invokeStream(lambda, name, fn.name, input, envelope, controller.signal, (v) =>
                  sink.chunk(input, input.attempt, v),
                )
              : await invokeOnce(sdk, lambda, name, fn.name, input, envelope, controller.signal);
            if (!controller.signal.aborted) sink.outcome(input, outcome);
          } catch (err) {
            if (!controller.signal.aborted) {
              sink.outcome(input, {
                inputId: input.inputId,
                attempt: input.attempt,
                status: "FAILURE",
                message: (err as Error).message,
              });
            }
          } finally {
            inFlight.delete(input.inputId);
            release();
          }
        })();
      }
    },
    abort(_fn: FunctionSpec, inputIds: readonly string[]): void {
      // The invoke's connection closes: a streamed generator stops at its next value; a plain
      // invoke runs to its end in Lambda, but nobody waits for it.
      for (const id of inputIds) inFlight.get(id)?.abort();
      fan.abort(inputIds);
    },
    async autoscalerSettings(fn) {
      const s3 = await sdk.s3();
      const { GetObjectCommand } = await import("@aws-sdk/client-s3");
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucketName(refOf(fn)), Key: settingsKey(fn) }));
        return JSON.parse((await got.Body?.transformToString()) ?? "null") as AutoscalerSettings;
      } catch (err) {
        if (!isMissing(err)) throw providerError("GetObject settings", err);
        const { minContainers, maxContainers, bufferContainers, scaledownWindowMs } = fn.options;
        return { minContainers, maxContainers, bufferContainers, scaledownWindowMs };
      }
    },
    async updateAutoscaler(fn, settings): Promise<EffectiveAutoscaler> {
      const lambda = await sdk.lambda();
      const cmd = await import("@aws-sdk/client-lambda");
      const FunctionName = functionName(refOf(fn), fn.name);
      try {
        if (settings.minContainers > 0) {
          await lambda.send(
            new cmd.PutProvisionedConcurrencyConfigCommand({
              FunctionName,
              Qualifier: ALIAS,
              ProvisionedConcurrentExecutions: settings.minContainers,
            }),
          );
        } else {
          await lambda
            .send(new cmd.DeleteProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier: ALIAS }))
            .catch((err: unknown) => {
              if ((err as { name?: string }).name !== "ResourceNotFoundException") throw err;
            });
        }
        if (settings.maxContainers !== undefined) {
          await lambda.send(
            new cmd.PutFunctionConcurrencyCommand({ FunctionName, ReservedConcurrentExecutions: settings.maxContainers }),
          );
        } else {
          await lambda.send(new cmd.DeleteFunctionConcurrencyCommand({ FunctionName }));
        }
      } catch (err) {
        throw providerError(`autoscaler of ${FunctionName}`, err);
      }
      const s3 = await sdk.s3();
      const { PutObjectCommand } = await import("@aws-sdk/client-s3");
      await s3.send(
        new PutObjectCommand({ Bucket: bucketName(refOf(fn)), Key: settingsKey(fn), Body: JSON.stringify(settings) }),
      );
      return {
        minContainers: settings.minContainers,
        maxContainers: settings.maxContainers ?? 1000,
        bufferContainers: settings.bufferContainers,
        scaledownWindowMs: settings.scaledownWindowMs,
        // Lambda keeps no idle buffer beside busy environments, and scales idle ones down on its own clock.
        unsupported: ["bufferContainers", "scaledownWindowMs"],
      };
    },
    async getCurrentStats(fn): Promise<FunctionStats> {
      const ref = refOf(fn);
      const FunctionName = functionName(ref, fn.name);
      const { GetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
      const cmd = await import("@aws-sdk/client-lambda");
      const [attributes, provisioned] = await Promise.all([
        awsCall("GetQueueAttributes", async () =>
          (await sdk.sqs()).send(
            new GetQueueAttributesCommand({
              QueueUrl: await queueUrl(ref, fn.name),
              AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            }),
          ),
        ),
        (await sdk.lambda())
          .send(new cmd.GetProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier: ALIAS }))
          .then((r) => r.AllocatedProvisionedConcurrentExecutions ?? 0)
          .catch(() => 0),
      ]);
      const backlog = Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0);
      const spawnedRunning = Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      let invokes = 0;
      for (const c of inFlight.values()) if (!c.signal.aborted) invokes++;
      const numRunningInputs = spawnedRunning + invokes;
      return { backlog, numTotalRunners: Math.max(provisioned, numRunningInputs), numRunningInputs };
    },
    async webUrl(fn) {
      if (fn.options.web === undefined) return undefined;
      const { GetFunctionUrlConfigCommand } = await import("@aws-sdk/client-lambda");
      const FunctionName = functionName(refOf(fn), fn.name);
      try {
        return (await (await sdk.lambda()).send(new GetFunctionUrlConfigCommand({ FunctionName, Qualifier: ALIAS }))).FunctionUrl;
      } catch (err) {
        if ((err as { name?: string }).name === "ResourceNotFoundException") return undefined;
        throw providerError(`GetFunctionUrlConfig ${FunctionName}`, err);
      }
    },
    async close() {
      for (const c of inFlight.values()) c.abort();
      fan.close();
    },
  };
}
