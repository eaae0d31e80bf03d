/**
 * The Azure platform under the cloud layer: Blob Storage containers as object stores, Storage Queues as
 * queues (a queued message named by its send's receipt, kept in the call's record), HTTPS with the app's
 * host key to each function app as the invoker, Flex always-ready instances for the autoscaler. Names
 * follow names.ts, so any process finds an app from its name.
 */
import type { AppStore } from "../../cloud/calls.js";
import { keptBy, keptPerFunction, rememberedBy } from "../../cloud/once.js";
import { type CloudPlatform, type CloudProvider, cloudProvider } from "../../cloud/provider.js";
import { unlessNotFound } from "../../cloud/sdk-errors.js";
import type { Deployer, FunctionSpec } from "../../core/provider.js";
import { blobStore, containersOfPrefix } from "./blob-store.js";
import { azureClients } from "./clients.js";
import { CALL_ROUTE, azureInvoker } from "./invoker.js";
import { type AppRef, containerName, queueName, siteName } from "./names.js";
import { type AzureOptions, resolveAzureOptions } from "./options.js";
import { hostKey, readSite, setAlwaysReady } from "./sites-api.js";
import { deleteQueued, queueCounts, storageQueue } from "./storage-queue.js";

export type AzureProvider = CloudProvider;

/** Azure's front end answers no HTTP request after 230 s: a call must be answered well before. */
export const HTTP_ANSWER_LIMIT_MS = 230_000;
/** Time for a call's answer (and the platform around it) besides the function's own timeout. */
const ANSWER_MARGIN_MS = 10_000;

/** Internal seams for the offline backend: a CA to trust (its ARM stand-in's), its host's lower HTTP cap. */
export interface AzureInternals {
  ca?: string;
  httpAnswerLimitMs?: number;
}

/** The provider over Blob Storage, Storage Queues and Azure Functions; `deployer` where this process may deploy. */
export function azureProvider(options: AzureOptions, deployer?: Deployer, internals: AzureInternals = {}): AzureProvider {
  const o = resolveAzureOptions(options);
  const sdk = azureClients({ ...o, ca: internals.ca });
  const refOf = (fn: { app: string; environment: string }): AppRef => ({ ...o, ...fn });
  const storeByName = keptBy((name): AppStore => ({ store: blobStore(sdk, name), ref: { name, prefix: "" } }));
  const queueByName = keptBy((name) => ({ queue: storageQueue(sdk, name), name }));
  const siteOf = keptPerFunction((fn: FunctionSpec) => siteName(refOf(fn), fn.name));
  const containerOf = keptPerFunction((fn: { app: string; environment: string }) => containerName(refOf(fn)));
  const queueOf = keptPerFunction((fn: FunctionSpec) => queueName(refOf(fn), fn.name));
  const deployedOf = rememberedBy(siteOf, (fn: FunctionSpec) => readSite(sdk, o.resourceGroup, siteOf(fn)));
  const keyOf = rememberedBy(siteOf, (fn: FunctionSpec) => hostKey(sdk, o.resourceGroup, siteOf(fn)));
  /** A function app's base URL: its host name as ARM reports it, or the stand-in's path for it. */
  const baseOf = async (fn: FunctionSpec) =>
    o.endpoints.functions !== undefined ? `${o.endpoints.functions}/${siteOf(fn)}` : `https://${(await deployedOf(fn)).hostName}`;

  const platform: CloudPlatform = {
    name: "azure",
    storeOf: (fn) => storeByName(containerOf(fn)),
    queueOf: async (fn) => queueByName(queueOf(fn)),
    invoker: azureInvoker({ urlOf: async (fn) => `${await baseOf(fn)}/${CALL_ROUTE}`, keyOf }),
    async unqueue(queue, _dedupKey, receipt) {
      if (receipt !== undefined) await deleteQueued(sdk, queue, receipt);
    },
    retentionMs: o.retentionMs,
    maxInFlight: o.maxInFlight,
    fanOutFrom: o.fanOutFrom,
    invokeLimitMs: (internals.httpAnswerLimitMs ?? HTTP_ANSWER_LIMIT_MS) - ANSWER_MARGIN_MS,
    ...(deployer === undefined ? {} : { deployer }),
    appStores: async () => (await containersOfPrefix(sdk, o.prefix)).map(storeByName),
    async applyAutoscaler(fn, settings) {
      const applied = await setAlwaysReady(sdk, o.resourceGroup, siteOf(fn), settings);
      deployedOf.forget(fn);
      return applied;
    },
    async platformStats(fn) {
      const [counts, deployed] = await Promise.all([queueCounts(sdk, queueOf(fn)), deployedOf(fn)]);
      return { ...counts, warm: deployed.alwaysReady };
    },
    webUrl: async (fn) => ((await unlessNotFound(deployedOf(fn))) === undefined ? undefined : `${await baseOf(fn)}/`),
  };
  return cloudProvider(platform);
}
