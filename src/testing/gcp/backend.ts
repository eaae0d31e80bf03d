/**
 * The app defined in `module`, on offline test doubles of Google Cloud: Cloud Storage, Cloud
 * Tasks (which really dispatches each task to its function) and the Cloud Functions admin API
 * in this process; each function's instances in processes of their own under functions-framework
 * (function-host.ts). Resources are made as the gcp deploy names them, under a prefix of this
 * backend's own, so the provider returned is the real client. A metadata-server double gives every
 * other process (each instance, a CLI, a test worker) credentials and ID tokens as the platform
 * does: `env` names it with the endpoints, and `gcp()` from there reaches this backend.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keysIn } from "../../cloud/keys.js";
import type { AppManifest } from "../../core/manifest.js";
import { gcpClients } from "../../providers/gcp/clients.js";
import { REQUEST_MARGIN_S } from "../../providers/gcp/deploy/function-options.js";
import { queueLimits } from "../../providers/gcp/deploy/queue.js";
import { gcsStore } from "../../providers/gcp/gcs-store.js";
import { type AppRef, bucketName, functionId, functionPath, locationPath, queuePath } from "../../providers/gcp/names.js";
import { type GcpProvider, gcpProvider } from "../../providers/gcp/platform.js";
import { appsOfModule } from "../app-module.js";
import type { StartedBackend } from "../backend.js";
import { type FunctionHost, type HostedGcpFunction, startFunctionHost } from "./function-host.js";
import { startFunctionsDouble } from "./functions-double.js";
import { idTokenDouble } from "./id-tokens.js";
import { loopbackAuth } from "./loopback-auth.js";
import { startMetadataDouble } from "./metadata-double.js";
import { type StorageDouble, startStorageDouble } from "./storage-double.js";
import { type TasksDouble, startTasksDouble } from "./tasks-double.js";

export interface GcpTestBackend extends StartedBackend {
  provider: GcpProvider;
  host: FunctionHost;
  /** The Cloud Tasks double, for faasade's own tests (its dispatches). */
  tasks: TasksDouble;
}

const project = "faasade-offline";
const region = "us-central1";
const serviceAccount = "runner@faasade-offline.iam.gserviceaccount.com";
/** Backends started in this process: each gets its own resource prefix. */
let started = 0;

/**
 * Only for faasade's own reliability tests (faulty-backend.ts), never passed by `startTestBackend`:
 * proxies put in front of the Storage and Tasks doubles for the app's clients and instances (the
 * backend's own setup goes to the doubles) and in front of the function host (the functions'
 * URLs, for callers and Cloud Tasks alike), and the doubles themselves, for their fault hooks.
 */
export interface InternalGcpBackendOptions {
  front?: (stand: "storage" | "tasks" | "functions", url: string) => Promise<{ url: string; close(): Promise<void> }>;
  doubles?: (doubles: { storage: StorageDouble; tasks: TasksDouble }) => void;
}

export async function startGcpBackend(
  options: { module: string | URL; retentionMs: number },
  internal: InternalGcpBackendOptions = {},
): Promise<GcpTestBackend> {
  const { moduleUrl, manifests } = await appsOfModule(options.module);
  const prefix = `gcpt${process.pid % 10_000}x${started++}`;
  const tokens = idTokenDouble(randomBytes(32));
  const [storage, tasks, metadata] = await Promise.all([
    startStorageDouble({ project }),
    startTasksDouble({ tokens }),
    startMetadataDouble({ tokens, project, region, serviceAccount }),
  ]);
  let host: FunctionHost | undefined;
  let hostFront: { url: string } | undefined;
  /** A function's URL as callers reach it (through the host's front, if any): also its ID tokens' audience. */
  const publicUrl = (url: string) => (host && hostFront ? hostFront.url + url.slice(host.url.length) : url);
  const functions = await startFunctionsDouble({
    onDeploy: (fn) => {
      const id = fn.name.split("/").at(-1) as string;
      host?.setMinInstances(id, Number(fn.serviceConfig?.minInstanceCount ?? 0));
      return host && publicUrl(host.urlOf(id));
    },
  });
  internal.doubles?.({ storage, tasks });
  const fronts: { url: string; close(): Promise<void> }[] = internal.front
    ? await Promise.all([internal.front("storage", storage.url), internal.front("tasks", tasks.url)])
    : [];
  // The Functions double serves Cloud Run's invoker policies too.
  const direct = { storage: storage.url, tasks: tasks.url, functions: functions.url, run: functions.url };
  const [storageFront, tasksFront] = fronts;
  const endpoints = { ...direct, storage: storageFront?.url ?? storage.url, tasks: tasksFront?.url ?? tasks.url };
  // No user's gcloud credentials may be found before the metadata server (ADC tries them first).
  const noGcloud = mkdtempSync(join(tmpdir(), "faasade-gcp-backend-"));
  const env = {
    FAASADE_PROVIDER: "gcp",
    GOOGLE_CLOUD_PROJECT: project,
    FAASADE_GCP_REGION: region,
    FAASADE_GCP_PREFIX: prefix,
    FAASADE_GCP_RETENTION_MS: String(options.retentionMs),
    FAASADE_GCP_ENDPOINT_FUNCTIONS: functions.url,
    FAASADE_GCP_ENDPOINT_TASKS: endpoints.tasks,
    FAASADE_GCP_ENDPOINT_STORAGE: endpoints.storage,
    FAASADE_GCP_ENDPOINT_RUN: functions.url,
    GCE_METADATA_HOST: metadata.host,
    METADATA_SERVER_DETECTION: "assume-present",
    GOOGLE_APPLICATION_CREDENTIALS: "",
    CLOUDSDK_CONFIG: noGcloud,
  };
  const refOf = (m: AppManifest): AppRef => ({ prefix, project, region, app: m.app, environment: m.environment });

  host = await startFunctionHost({
    functions: Object.fromEntries(
      manifests.flatMap((m) => m.functions.map((f) => [functionId(refOf(m), f.name), hosted(m, f, moduleUrl)])),
    ),
    verify: (token, audience) => tokens.verify(token, publicUrl(audience)),
    env,
  });
  if (internal.front) fronts.push((hostFront = await internal.front("functions", host.url)));
  const hosting = host;
  const urlOf = (id: string) => publicUrl(hosting.urlOf(id));
  const sdk = gcpClients({ project, endpoints: direct, authClient: loopbackAuth });
  for (const m of manifests) await makeResources(sdk, m, refOf(m), urlOf, functions.functions, options.retentionMs);

  // This process's own provider is handed its credentials; other processes find them through `env`.
  const provider = gcpProvider(
    { project, region, prefix, retentionMs: options.retentionMs, serviceAccount, endpoints, authClient: loopbackAuth },
    undefined,
    { idToken: (audience) => tokens.idToken(audience) },
  );
  let tasksBefore: Record<string, number> = {};
  return {
    provider,
    host,
    tasks,
    env,
    takeRequestCounts: () => {
      const since = Object.fromEntries(Object.entries(tasks.calls).map(([rpc, n]) => [rpc, n - (tasksBefore[rpc] ?? 0)]));
      tasksBefore = { ...tasks.calls };
      return { ...prefixed("storage", storage.takeCounts()), ...prefixed("tasks", since) };
    },
    async close() {
      await provider.close();
      await host?.close();
      await Promise.all(fronts.map((f) => f.close()));
      await Promise.all([storage.close(), tasks.close(), functions.close(), metadata.close()]);
      rmSync(noGcloud, { recursive: true, force: true });
    },
  };
}

function hosted(m: AppManifest, f: AppManifest["functions"][number], module: string): HostedGcpFunction {
  return {
    module,
    maxInstances: f.options.maxContainers ?? 10,
    maxInputs: f.options.maxInputs,
    minInstances: f.options.minContainers,
    timeoutMs: f.options.timeoutMs + REQUEST_MARGIN_S * 1000,
    ...(f.options.memoryMb ? { memoryMb: f.options.memoryMb } : {}),
    env: {
      ...f.options.env,
      FAASADE_APP: m.app,
      FAASADE_ENVIRONMENT: m.environment,
      FAASADE_FUNCTION: f.name,
      FAASADE_GCP_TIMEOUT_MS: String(f.options.timeoutMs),
      FAASADE_GCP_SERVICE_ACCOUNT: serviceAccount,
    },
    public: f.options.web !== undefined && !f.options.web.auth,
  };
}

/** The bucket and manifest of an app, and a queue and a function record per function, as deploy makes them. */
async function makeResources(
  sdk: ReturnType<typeof gcpClients>,
  m: AppManifest,
  ref: AppRef,
  urlOf: (id: string) => string,
  records: Map<string, Record<string, unknown> & { name: string }>,
  retentionMs: number,
): Promise<void> {
  const storage = await sdk.storage();
  const bucket = bucketName(ref);
  await storage.createBucket(bucket, {
    location: region,
    lifecycle: { rule: [{ action: { type: "Delete" }, condition: { age: Math.ceil(retentionMs / 86_400_000) } }] },
  });
  await gcsStore(sdk, bucket).put(keysIn("").manifest({ app: m.app, environment: m.environment }), JSON.stringify(m));
  const tasks = await sdk.tasks();
  for (const f of m.functions) {
    const { maxConcurrentDispatches, retryConfig } = queueLimits({
      maxInstances: f.options.maxContainers ?? 10,
      concurrency: f.options.maxInputs,
    });
    await tasks.createQueue({
      parent: locationPath(ref),
      queue: { name: queuePath(ref, f.name), rateLimits: { maxConcurrentDispatches }, retryConfig },
    });
    const id = functionId(ref, f.name);
    records.set(functionPath(ref, f.name), {
      name: functionPath(ref, f.name),
      state: "ACTIVE",
      environment: "GEN_2",
      url: urlOf(id),
      serviceConfig: {
        minInstanceCount: f.options.minContainers,
        maxInstanceCount: f.options.maxContainers ?? 100,
        maxInstanceRequestConcurrency: f.options.maxInputs,
        serviceAccountEmail: serviceAccount,
      },
    });
  }
}

const prefixed = (service: string, counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [`${service}:${k}`, v]));

export { startGcpBackend as startBackend };
