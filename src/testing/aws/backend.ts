/**
 * `startTestBackend("aws", { module })`: the app defined in `module`, on offline stand-ins of
 * AWS. fauxqs serves SQS and S3 in this process; a Lambda test host runs the real runtime
 * handlers in child processes; a poller plays the SQS event source mappings. Resources are made
 * as `faasade deploy --provider aws` names them, so the provider returned is the real client.
 */
import { pathToFileURL } from "node:url";
import { InvalidError } from "../../core/errors.js";
import { findApp } from "../../core/registry.js";
import { type AwsProvider, aws } from "../../providers/aws/index.js";
import { bucketName, functionName, keys } from "../../providers/aws/names.js";
import { type AppManifest, manifestOf } from "../../core/manifest.js";
import { type HostedFunction, startLambdaHost } from "./lambda-host.js";
import { type PollerTarget, startSqsPoller } from "./sqs-poller.js";

export interface TestBackend {
  provider: AwsProvider;
  /** The same backend for other processes: FAASADE_PROVIDER, endpoints, credentials. */
  env: Record<string, string>;
  /**
   * Requests SQS and S3 have served since the last call, by operation: `sqs:SendMessageBatch`,
   * `s3:GET results/`, ... (what benchmarks count).
   */
  takeRequestCounts(): Record<string, number>;
  close(): Promise<void>;
}

const PREFIX = "faasade-test";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };

export async function startAwsBackend(module: string | URL): Promise<TestBackend> {
  const moduleUrl = module instanceof URL ? module.href : /^[a-z]+:/.test(module) ? module : pathToFileURL(module).href;
  const exports = (await import(moduleUrl)) as Record<string, unknown>;
  const manifests = appsOf(exports);
  if (manifests.length === 0) throw new InvalidError(`startTestBackend: ${moduleUrl} defines no app functions (export them)`);

  const { buildApp } = await import("fauxqs");
  const fauxqs = buildApp({ logger: false });
  let counts: Record<string, number> = {};
  fauxqs.addHook("onRequest", (req, _reply, done) => {
    const target = req.headers["x-amz-target"];
    const op =
      typeof target === "string"
        ? `sqs:${target.split(".").pop()}`
        : `s3:${req.method} ${(req.url.split("?")[0] ?? "").split("/").slice(2, 3).join("")}/`;
    counts[op] = (counts[op] ?? 0) + 1;
    done();
  });
  const storage = await fauxqs.listen({ port: 0, host: "127.0.0.1" });
  const region = "us-east-1";
  const { S3Client, CreateBucketCommand, PutObjectCommand } = await import("@aws-sdk/client-s3");
  const { SQSClient, CreateQueueCommand } = await import("@aws-sdk/client-sqs");
  const s3 = new S3Client({ region, endpoint: storage, forcePathStyle: true, credentials });
  const sqs = new SQSClient({ region, endpoint: storage, credentials });

  const functions = new Map<string, HostedFunction>();
  const targets: PollerTarget[] = [];
  for (const m of manifests) {
    const ref = { prefix: PREFIX, app: m.app, environment: m.environment };
    await s3.send(new CreateBucketCommand({ Bucket: bucketName(ref) }));
    await s3.send(new PutObjectCommand({ Bucket: bucketName(ref), Key: keys.manifest(m), Body: JSON.stringify(m) }));
    for (const fn of m.functions) {
      const name = functionName(ref, fn.name);
      // As deploy sets it: a little above timeoutMs, so the runtime's own timeout answers first.
      const timeoutMs = fn.options.timeoutMs + 1000;
      functions.set(name, { timeoutMs, memoryMb: fn.options.memoryMb, reserved: fn.options.maxContainers });
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      targets.push({ queueUrl: QueueUrl as string, functionName: name, visibilitySeconds: Math.ceil(timeoutMs / 1000) + 5 });
    }
  }
  const baseEnv = {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: storage,
    AWS_ENDPOINT_URL_SQS: storage,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    FAASADE_PROVIDER: "aws",
    FAASADE_AWS_PREFIX: PREFIX,
  };
  const host = await startLambdaHost({ module: moduleUrl, functions, env: baseEnv });
  const env = { ...baseEnv, AWS_ENDPOINT_URL_LAMBDA: host.url };
  // The environments call back into the backend (nested calls): they need the host's address too.
  Object.assign(baseEnv, { AWS_ENDPOINT_URL_LAMBDA: host.url });
  const poller = startSqsPoller(sqs, host, targets);
  const provider = aws({ prefix: PREFIX, region, credentials, endpoints: { lambda: host.url, sqs: storage, s3: storage } });
  return {
    provider,
    env,
    takeRequestCounts() {
      const taken = counts;
      counts = {};
      return taken;
    },
    async close() {
      await provider.close();
      await poller.stop();
      await host.close();
      await fauxqs.close();
    },
  };
}

function appsOf(exports: Record<string, unknown>): AppManifest[] {
  const seen = new Map<string, AppManifest>();
  for (const value of Object.values(exports)) {
    const handle = value as { appName?: string; definition?: () => { app: { name: string; environment: string } } };
    if (typeof handle?.definition !== "function" || typeof handle.appName !== "string") continue;
    const { app } = handle.definition();
    const defined = findApp(app.name, app.environment);
    if (defined !== undefined && !seen.has(`${app.environment}/${app.name}`))
      seen.set(`${app.environment}/${app.name}`, manifestOf(defined));
  }
  return [...seen.values()];
}
