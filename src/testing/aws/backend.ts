import { appsOfModule } from "../app-module.js";
import { quietNodeVersionNotice } from "../../providers/aws/clients.js";
import { type AwsProvider, aws } from "../../providers/aws/index.js";
import { bucketName, functionName, keys } from "../../providers/aws/names.js";
import { type HostedFunction, startLambdaHost } from "./lambda-host.js";
import { need } from "./optional.js";
import { type PollerTarget, startSqsPoller } from "./sqs-poller.js";
import { makeTaskRoot } from "./task-root.js";

export interface TestBackend {
  provider: AwsProvider;
  /** The same backend for other processes: FAASADE_PROVIDER, endpoints, credentials, prefix, retention. */
  env: Record<string, string>;
  /**
   * Requests SQS and S3 have served since the last call, by operation: `sqs:SendMessageBatch`,
   * `s3:GET results/`, ... (what benchmarks count).
   */
  takeRequestCounts(): Record<string, number>;
  close(): Promise<void>;
}

export interface AwsBackendOptions {
  module: string | URL;
  /** How long results are kept (ms). */
  retentionMs: number;
}

/**
 * Only for faasade's own reliability tests (faults.ts), never passed by `startTestBackend`:
 * proxies put in front of the stand-ins, and a visibility timeout of the poller's own.
 */
export interface InternalBackendOptions {
  /** The URLs the app's clients and runtimes (`url`) and the event source poller (`platformUrl`) reach a stand-in at. */
  front?: (stand: "storage" | "lambda", url: string) => Promise<{ url: string; platformUrl: string; close(): Promise<void> }>;
  /** Seconds a received message stays invisible, instead of the function's timeout and a margin. */
  visibilitySeconds?: number;
}

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const region = "us-east-1";
/** Backends started in this process: each gets its own resource prefix. */
let started = 0;
/** Lambda's default memory size, as deploy sets it. */
const DEFAULT_MEMORY_MB = 1024;

export async function startAwsBackend(options: AwsBackendOptions, internal: InternalBackendOptions = {}): Promise<TestBackend> {
  const { module, retentionMs } = options;
  const { moduleUrl, manifests } = await appsOfModule(module);
  quietNodeVersionNotice(); // before this backend's own clients, the first of the process
  const prefix = `faasade-test-${++started}`;
  const taskRoot = await makeTaskRoot(moduleUrl);
  const { buildApp } = await need("fauxqs", () => import("fauxqs"));
  const { S3Client, CreateBucketCommand, PutObjectCommand } = await need(
    "@aws-sdk/client-s3",
    () => import("@aws-sdk/client-s3"),
  );
  const { SQSClient, CreateQueueCommand } = await need("@aws-sdk/client-sqs", () => import("@aws-sdk/client-sqs"));
  await need("@aws-sdk/client-lambda", () => import("@aws-sdk/client-lambda"));

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
  // Undone in reverse order on close, or when starting fails part way.
  const closers: (() => Promise<unknown>)[] = [() => taskRoot.remove(), () => fauxqs.close()];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  };
  const frontOf = async (stand: "storage" | "lambda", url: string) => {
    if (internal.front === undefined) return { url, platformUrl: url };
    const front = await internal.front(stand, url);
    closers.push(() => front.close());
    return front;
  };
  try {
    const direct = await fauxqs.listen({ port: 0, host: "127.0.0.1" });
    const fronted = await frontOf("storage", direct);
    const storage = fronted.url;
    // Setup goes to fauxqs itself; the poller plays AWS's side, in front of any fault but a restart.
    const s3 = new S3Client({ region, endpoint: direct, forcePathStyle: true, credentials });
    const sqs = new SQSClient({ region, endpoint: direct, credentials });
    const mapping = new SQSClient({ region, endpoint: fronted.platformUrl, credentials });
    closers.push(async () => {
      s3.destroy();
      sqs.destroy();
      mapping.destroy();
    });

    const functions = new Map<string, HostedFunction>();
    const targets: PollerTarget[] = [];
    for (const m of manifests) {
      const ref = { prefix, app: m.app, environment: m.environment };
      await s3.send(new CreateBucketCommand({ Bucket: bucketName(ref) }));
      await s3.send(new PutObjectCommand({ Bucket: bucketName(ref), Key: keys.manifest(m), Body: JSON.stringify(m) }));
      for (const fn of m.functions) {
        const name = functionName(ref, fn.name);
        // As deploy sets it: a little above timeoutMs, so the runtime's own timeout answers first.
        const timeoutMs = fn.options.timeoutMs + 1000;
        functions.set(name, {
          timeoutMs,
          memoryMb: fn.options.memoryMb ?? DEFAULT_MEMORY_MB,
          heapMb: fn.options.memoryMb,
          handler: fn.isGenerator ? "index.stream" : "index.handler",
          env: {
            ...fn.options.env,
            FAASADE_APP: m.app,
            FAASADE_ENVIRONMENT: m.environment,
            FAASADE_FUNCTION: fn.name,
          },
          reserved: fn.options.maxContainers,
          web: fn.options.web === undefined ? undefined : { auth: fn.options.web.auth },
        });
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
        const visibilitySeconds = internal.visibilitySeconds ?? Math.ceil(timeoutMs / 1000) + 5;
        targets.push({ queueUrl: QueueUrl as string, functionName: name, visibilitySeconds });
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
      FAASADE_AWS_PREFIX: prefix,
      FAASADE_AWS_RETENTION_MS: String(retentionMs),
    };
    const host = await startLambdaHost({ functions, taskRoot, env: baseEnv, region, credentials });
    closers.push(() => host.close());
    const lambdaUrl = (await frontOf("lambda", host.url)).url;
    const env = { ...baseEnv, AWS_ENDPOINT_URL_LAMBDA: lambdaUrl };
    const poller = startSqsPoller(mapping, host, targets);
    closers.push(() => poller.stop());
    const provider = aws({
      prefix,
      region,
      credentials,
      retentionMs,
      endpoints: { lambda: lambdaUrl, sqs: storage, s3: storage },
    });
    closers.push(() => provider.close());
    return {
      provider,
      env,
      takeRequestCounts() {
        const taken = counts;
        counts = {};
        return taken;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * Imports the app's module in this process (to learn its functions). A TypeScript module that
 * this process cannot import by itself (no tsx registered, not under vitest) goes through tsx.
 */
export { startAwsBackend as startBackend };
