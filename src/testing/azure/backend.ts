/**
 * The app defined in `module`, on offline stand-ins of Azure: azurite (the real emulator) for Blob and
 * Queue Storage, an ARM test double (arm-double.ts, HTTPS on loopback) for the function apps, a
 * managed-identity double for credentials, and the Functions host stand-in (function-host.ts), which runs
 * each function app's instances in processes of their own and dispatches its queue as Azure's host does.
 * Resources are made as the azure deploy makes them (its own steps, without bundling and publishing),
 * under a prefix of this backend's own, so the provider returned is the real client. `env` points any
 * other process (an instance, a CLI, a test worker) at the same stand-ins, with credentials as a deployed
 * app gets them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppManifest, FunctionManifest } from "../../core/manifest.js";
import { type AzureDeployContext, appRef, deployContext } from "../../providers/azure/deploy/context.js";
import { MAX_DEQUEUE_COUNT } from "../../providers/azure/deploy/entry.js";
import { azureSettings } from "../../providers/azure/deploy/function-options.js";
import { appSettings, ensureAppSettings } from "../../providers/azure/deploy/settings.js";
import { ensurePlan, ensureSite } from "../../providers/azure/deploy/site.js";
import { ensureContainer, ensureQueues, putManifest } from "../../providers/azure/deploy/storage.js";
import { containerName, siteName } from "../../providers/azure/names.js";
import { type AzureProvider, azureProvider } from "../../providers/azure/platform.js";
import { appsOfModule } from "../app-module.js";
import type { StartedBackend } from "../backend.js";
import { type ArmDouble, type ArmSite, loopbackCredential, startArmDouble } from "./arm-double.js";
import { type Azurite, DEV_ACCOUNT, DEV_KEY, startAzurite } from "./azurite.js";
import { type AzureFunctionHost, type HostedAzureFunction, startFunctionHost } from "./function-host.js";
import { startIdentityDouble } from "./identity-double.js";
import { type AzureFaultProxy, startAzureFaultProxy } from "./faults.js";

export interface AzureTestBackend extends StartedBackend {
  provider: AzureProvider;
  host: AzureFunctionHost;
  arm: ArmDouble;
  azurite: Azurite;
}

export type AzureStand = "blob" | "queue" | "functions";

/**
 * Only for faasade's own tests (faulty-backend.ts), never passed by `startTestBackend`: proxies put in
 * front of azurite's Blob and Queue services and of the host stand-in, and the host's settings.
 */
export interface InternalAzureBackendOptions {
  /** `platformUrl`: where the host's own queue listeners go (a restart reaches them, throttling does not). */
  front?: (stand: AzureStand, url: string) => Promise<{ url: string; platformUrl?: string; close(): Promise<void> }>;
  host?: {
    /** How long a received message stays invisible while it runs (renewed at half of it). @default 10 000 */
    visibilityMs?: number;
    /** How long the front answers an HTTP request (Azure's 230 s). @default 230 000 */
    httpCapMs?: number;
  };
}

const subscriptionId = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const resourceGroup = "faasade-offline";
const region = "westeurope";
/** Backends started in this process: each gets its own resource prefix. */
let started = 0;

/** The development account's connection string, for Blob and Queue endpoints given as origins. */
const connectionOf = (blob: string, queue: string) =>
  `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
  `BlobEndpoint=${blob}/${DEV_ACCOUNT};QueueEndpoint=${queue}/${DEV_ACCOUNT};`;
const originOf = (url: string) => new URL(url).origin;

export async function startAzureBackend(
  options: { module: string | URL; retentionMs: number },
  internal: InternalAzureBackendOptions = {},
): Promise<AzureTestBackend> {
  const { moduleUrl, manifests } = await appsOfModule(options.module);
  const prefix = `azt${process.pid % 10_000}x${started++}`;
  const closing: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const step of closing.reverse()) await step().catch(() => {});
  };
  try {
    const [azurite, identity] = await Promise.all([startAzurite(), startIdentityDouble()]);
    closing.push(
      () => azurite.close(),
      () => identity.close(),
    );
    let host: AzureFunctionHost | undefined;
    const arm = await startArmDouble({ onSite: (site) => host?.setAlwaysReady(site.name, alwaysReadyOf(site)) });
    closing.push(() => arm.close());
    const work = mkdtempSync(join(tmpdir(), "faasade-azure-backend-"));
    closing.push(async () => rmSync(work, { recursive: true, force: true }));
    const caFile = join(work, "loopback-ca.pem");
    writeFileSync(caFile, arm.ca);

    // Without fronts of the caller's, Blob and Queue requests pass proxies that count them (by operation).
    const counted = new Map<AzureStand, AzureFaultProxy>();
    const front = internal.front ?? ((stand: AzureStand, url: string) => countingFront(stand, url, counted));
    const [blob, queue] = await Promise.all([
      front("blob", originOf(azurite.blobUrl)),
      front("queue", originOf(azurite.queueUrl)),
    ]);
    closing.push(
      () => blob.close(),
      () => queue.close(),
    );
    const connectionString = connectionOf(blob.url, queue.url);
    const hostConnection = connectionOf(blob.platformUrl ?? blob.url, queue.platformUrl ?? queue.url);
    const ctx = deployContext({
      subscriptionId,
      resourceGroup,
      region,
      prefix,
      retentionMs: options.retentionMs,
      storage: { connectionString },
      endpoints: { arm: arm.url },
      credential: loopbackCredential,
      ca: arm.ca,
      pollMs: 20,
    });
    const sites: Record<string, HostedAzureFunction> = {};
    for (const m of manifests) Object.assign(sites, await makeResources(ctx, m, moduleUrl, arm));
    const leaseMs = internal.host?.visibilityMs;
    if (leaseMs !== undefined) for (const s of Object.values(sites)) s.queues = { ...s.queues, leaseMs };

    const env: Record<string, string> = {
      FAASADE_PROVIDER: "azure",
      AZURE_SUBSCRIPTION_ID: subscriptionId,
      FAASADE_AZURE_RESOURCE_GROUP: resourceGroup,
      FAASADE_AZURE_REGION: region,
      FAASADE_AZURE_PREFIX: prefix,
      FAASADE_AZURE_RETENTION_MS: String(options.retentionMs),
      FAASADE_AZURE_STORAGE_CONNECTION_STRING: connectionString,
      FAASADE_AZURE_ENDPOINT_ARM: arm.url,
      NODE_EXTRA_CA_CERTS: caFile,
      ...identity.env,
    };
    // The host reads `env` as each instance starts: the front's URL is added once the host listens.
    host = await startFunctionHost({
      sites: Object.fromEntries(Object.entries(sites).map(([name, s]) => [name, { ...s, alwaysReady: 0 }])),
      env,
      hostConnection,
      ...(internal.host?.httpCapMs === undefined ? {} : { httpCapMs: internal.host.httpCapMs }),
    });
    closing.push(() => (host as AzureFunctionHost).close());
    const functions = await front("functions", host.url);
    closing.push(() => functions.close());
    const functionsUrl = functions.url;
    env.FAASADE_AZURE_ENDPOINT_FUNCTIONS = functionsUrl;
    for (const [name, s] of Object.entries(sites)) if (s.alwaysReady) host.setAlwaysReady(name, s.alwaysReady);

    const provider = azureProvider(
      {
        subscriptionId,
        resourceGroup,
        prefix,
        retentionMs: options.retentionMs,
        storage: { connectionString },
        endpoints: { arm: arm.url, functions: functionsUrl },
        credential: loopbackCredential,
      },
      undefined,
      { ca: arm.ca, ...(internal.host?.httpCapMs === undefined ? {} : { httpAnswerLimitMs: internal.host.httpCapMs }) },
    );
    closing.push(() => provider.close());
    const hosting = host;
    let hostBefore = { ...hosting.requests };
    return {
      provider,
      host: hosting,
      arm,
      azurite,
      env,
      takeRequestCounts: () => {
        const own = Object.entries(hosting.requests).map(([op, n]) => [
          `host:${op}`,
          n - (hostBefore[op as keyof typeof hostBefore] ?? 0),
        ]);
        hostBefore = { ...hosting.requests };
        const stores = [...counted.values()].flatMap((f) => Object.entries(f.takeRequests()));
        return Object.fromEntries([...stores, ...own]);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** An app's container and manifest, and per function its queues, plan, function app and settings, as deploy makes them. */
async function makeResources(
  ctx: AzureDeployContext,
  m: AppManifest,
  moduleUrl: string,
  arm: ArmDouble,
): Promise<Record<string, HostedAzureFunction>> {
  const ref = appRef(ctx, m.app, m.environment);
  await ensureContainer(ctx, containerName(ref));
  await putManifest(ctx, ref, m);
  const sites: Record<string, HostedAzureFunction> = {};
  for (const f of m.functions) {
    const s = azureSettings(f, { memoryMb: ctx.memoryMb });
    const site = siteName(ref, f.name);
    const settings = appSettings(ctx, ref, f, s);
    await ensureQueues(ctx, ref, f.name);
    const plan = { ref, fn: f.name, site, settings: s, deploymentContainer: `${site}-code` };
    await ensurePlan(ctx, plan);
    await ensureSite(ctx, plan, undefined, "offline", settings);
    await ensureAppSettings(ctx, site, settings);
    sites[site] = hosted(f, moduleUrl, settings, arm.site(site)?.hostKey, s.alwaysReady);
  }
  return sites;
}

function hosted(
  f: FunctionManifest,
  module: string,
  settings: Record<string, string>,
  key: string | undefined,
  alwaysReady: number,
): HostedAzureFunction {
  const batchSize = Math.min(32, f.options.maxInputs);
  return {
    module,
    env: settings,
    key,
    // The stand-in keeps a function's own maximum (Flex's lowest is 40): its tests count containers.
    maxInstances: f.options.maxContainers ?? 10,
    httpConcurrency: f.options.maxInputs,
    alwaysReady,
    ...(f.options.memoryMb ? { memoryMb: f.options.memoryMb } : {}),
    routePrefix: "",
    // A listener per instance, as Azure scales a queue-triggered app out on its backlog.
    queues: {
      batchSize,
      newBatchThreshold: 0,
      maxDequeueCount: MAX_DEQUEUE_COUNT,
      visibilityTimeoutMs: 0,
      listeners: f.options.maxContainers ?? 10,
    },
  };
}

/** The always-ready instances of a site's HTTP group, as its ARM resource now says. */
function alwaysReadyOf(site: ArmSite): number {
  const props = (site.resource.properties ?? {}) as {
    functionAppConfig?: { scaleAndConcurrency?: { alwaysReady?: { name?: string; instanceCount?: number }[] } };
  };
  const http = props.functionAppConfig?.scaleAndConcurrency?.alwaysReady?.find((r) => r.name === "http");
  return Number(http?.instanceCount ?? 0);
}

/** The default front of a stand-in: storage requests counted by operation, nothing refused; the host's URL as it is. */
async function countingFront(
  stand: AzureStand,
  url: string,
  counted: Map<AzureStand, AzureFaultProxy>,
): Promise<{ url: string; platformUrl?: string; close(): Promise<void> }> {
  if (stand === "functions") return { url, close: async () => {} };
  const proxy = await startAzureFaultProxy(url, stand);
  counted.set(stand, proxy);
  return proxy;
}

export { startAzureBackend as startBackend };
