/**
 * The AWS platform under the cloud layer: S3 buckets as object stores, SQS queues as queues,
 * Lambda invokes of the `live` alias as the invoker, provisioned concurrency for
 * `minContainers`, reserved concurrency for `maxContainers`, and the counts stats are made of.
 */
import type { AppStore } from "../../cloud/calls.js";
import { keptBy, rememberedBy } from "../../cloud/once.js";
import { optionsObject, sharedCloudOptions } from "../../cloud/options.js";
import type { Queue } from "../../cloud/primitives.js";
import { type CloudPlatform, type CloudProvider, cloudProvider } from "../../cloud/provider.js";
import type { Deployer, FunctionSpec } from "../../core/provider.js";
import { type ClientOptions, awsCall, clients, isMissing, providerError } from "./clients.js";
import type { AwsDeployOptions } from "./deploy/resources.js";
import { lambdaInvoker } from "./lambda-invoker.js";
import { appBuckets } from "./list.js";
import { ALIAS, type AppRef, bucketName, functionName, keyPrefixOf, prefixOf, sharedBucketOf } from "./names.js";
import { s3Store } from "./s3-store.js";
import { sqsQueue } from "./sqs-queue.js";

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
  /** How long spawned results are kept. @default FAASADE_AWS_RETENTION_MS, else 7 days */
  retentionMs?: number;
}

export type AwsProvider = CloudProvider;

/** The provider over S3, SQS and Lambda; `deployer` where this process may deploy (a runtime never does). */
export function awsProvider(options: AwsOptions, deployer?: Deployer): AwsProvider {
  optionsObject("aws", options);
  const prefix = prefixOf(options.prefix);
  const { maxInFlight, retentionMs, fanOutFrom } = sharedCloudOptions("aws", options);
  const sdk = clients(options);
  // An existing bucket, if given, holds every app's objects under "faasade/".
  const shared = sharedBucketOf(options.bucket);
  const refOf = (fn: { app: string; environment: string }): AppRef => ({ prefix, ...fn, bucket: shared });
  const lambdaName = (fn: FunctionSpec) => functionName(refOf(fn), fn.name);

  const storeByName = keptBy(
    (bucket): AppStore => ({ store: s3Store(sdk, bucket), ref: { name: bucket, prefix: keyPrefixOf({ bucket: shared }) } }),
  );
  const storeOf = (fn: { app: string; environment: string }) => storeByName(bucketName(refOf(fn)));

  /** Queues by function, kept whole: sends coalesce per queue object. */
  const queueOf = rememberedBy(lambdaName, async (fn: FunctionSpec): Promise<{ queue: Queue; name: string }> => {
    const name = lambdaName(fn);
    const [sqs, { GetQueueUrlCommand }] = await Promise.all([sdk.sqs(), import("@aws-sdk/client-sqs")]);
    const { QueueUrl } = await awsCall(`GetQueueUrl ${name}`, () => sqs.send(new GetQueueUrlCommand({ QueueName: name })));
    return { queue: sqsQueue(sdk, QueueUrl as string), name: QueueUrl as string };
  });

  const platform: CloudPlatform = {
    name: "aws",
    storeOf,
    queueOf,
    invoker: lambdaInvoker(sdk, lambdaName),
    retentionMs,
    maxInFlight,
    fanOutFrom,
    ...(deployer === undefined ? {} : { deployer }),
    appStores: async () => (shared !== undefined ? [shared] : await appBuckets(sdk, prefix)).map(storeByName),
    async applyAutoscaler(fn, settings) {
      const [lambda, L] = await Promise.all([sdk.lambda(), import("@aws-sdk/client-lambda")]);
      const FunctionName = lambdaName(fn);
      await awsCall(`autoscaler of ${FunctionName}`, async () => {
        if (settings.minContainers > 0) {
          const ProvisionedConcurrentExecutions = settings.minContainers;
          await lambda.send(
            new L.PutProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier: ALIAS, ProvisionedConcurrentExecutions }),
          );
        } else {
          await lambda
            .send(new L.DeleteProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier: ALIAS }))
            .catch(unlessNotFound);
        }
        if (settings.maxContainers !== undefined) {
          const ReservedConcurrentExecutions = settings.maxContainers;
          await lambda.send(new L.PutFunctionConcurrencyCommand({ FunctionName, ReservedConcurrentExecutions }));
        } else {
          await lambda.send(new L.DeleteFunctionConcurrencyCommand({ FunctionName })).catch(unlessNotFound);
        }
      });
      // Lambda keeps no idle buffer beside busy environments, and scales idle ones down on its own clock.
      return { maxContainers: 1000, unsupported: ["bufferContainers", "scaledownWindowMs"] };
    },
    async platformStats(fn) {
      const [sqs, lambda, Q, L] = await Promise.all([
        sdk.sqs(),
        sdk.lambda(),
        import("@aws-sdk/client-sqs"),
        import("@aws-sdk/client-lambda"),
      ]);
      const { name: QueueUrl } = await queueOf(fn);
      const FunctionName = lambdaName(fn);
      const [attributes, warm] = await Promise.all([
        awsCall(`GetQueueAttributes ${QueueUrl}`, () =>
          sqs.send(
            new Q.GetQueueAttributesCommand({
              QueueUrl,
              AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            }),
          ),
        ),
        lambda.send(new L.GetProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier: ALIAS })).then(
          (r) => r.AllocatedProvisionedConcurrentExecutions ?? 0,
          (err: unknown) => {
            if (isNotFound(err)) return 0;
            throw providerError(`GetProvisionedConcurrencyConfig ${FunctionName}`, err);
          },
        ),
      ]);
      return {
        queued: Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0),
        processing: Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
        warm,
      };
    },
    async webUrl(fn) {
      const [lambda, { GetFunctionUrlConfigCommand }] = await Promise.all([sdk.lambda(), import("@aws-sdk/client-lambda")]);
      const FunctionName = lambdaName(fn);
      try {
        return (await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName, Qualifier: ALIAS }))).FunctionUrl;
      } catch (err) {
        if ((err as { name?: string }).name === "ResourceNotFoundException") return undefined;
        throw providerError(`GetFunctionUrlConfig ${FunctionName}`, err);
      }
    },
  };

  return cloudProvider(platform);
}

/** Lambda's "nothing configured" answers: what a read or delete of an absent setting expects. */
function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === "ResourceNotFoundException" || name === "ProvisionedConcurrencyConfigNotFoundException" || isMissing(err);
}

function unlessNotFound(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  throw err;
}
