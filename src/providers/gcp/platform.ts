/**
 * The Google Cloud platform under the cloud layer: Cloud Storage buckets as object stores, Cloud
 * Tasks queues as queues (a queued task is also a pending call's record), authenticated HTTPS to
 * each function's URL as the invoker, min/max instances for the autoscaler. Names follow names.ts,
 * so any process finds an app from its name.
 */
import type { AppStore } from "../../cloud/calls.js";
import { keptBy, keptPerFunction, rememberedBy } from "../../cloud/once.js";
import { type CloudPlatform, type CloudProvider, cloudProvider } from "../../cloud/provider.js";
import { unlessNotFound } from "../../cloud/sdk-errors.js";
import type { Deployer, FunctionSpec } from "../../core/provider.js";
import { gcpClients } from "./clients.js";
import { readDeployed, setInstances } from "./functions-api.js";
import { bucketsOfPrefix, gcsStore } from "./gcs-store.js";
import { gcpInvoker, googleIdTokens } from "./invoker.js";
import { type AppRef, bucketName, functionPath, keyPrefixOf, queuePath } from "./names.js";
import { type GcpOptions, resolveGcpOptions } from "./options.js";
import { deleteTask, prefixQueues, taskBody, taskCounts, taskName, tasksQueue } from "./tasks-queue.js";

export type GcpProvider = CloudProvider;

/** Internal seams for the offline backend: where ID tokens come from. */
export interface GcpInternals {
  idToken?: (audience: string) => Promise<string>;
}

/** The provider over Cloud Storage, Cloud Tasks and Cloud Functions; `deployer` where this process may deploy. */
export function gcpProvider(options: GcpOptions, deployer?: Deployer, internals: GcpInternals = {}): GcpProvider {
  const o = resolveGcpOptions(options);
  const sdk = gcpClients({ project: o.project, endpoints: o.endpoints, authClient: o.authClient });
  const refOf = (fn: { app: string; environment: string }): AppRef => ({ ...o, ...fn });
  const storeByName = keptBy((name): AppStore => ({ store: gcsStore(sdk, name), ref: { name, prefix: keyPrefixOf(o) } }));
  const fnKey = (fn: FunctionSpec) => `${fn.environment}/${fn.app}/${fn.name}`;
  // The bucket's name hashes the project: made once per app, not on every call.
  const bucketOf = keptPerFunction((fn: { app: string; environment: string }) => bucketName(refOf(fn)));
  const deployedOf = rememberedBy(fnKey, (fn: FunctionSpec) => readDeployed(sdk, functionPath(refOf(fn), fn.name)));
  const queueOf = rememberedBy(fnKey, async (fn: FunctionSpec) => {
    const [name, d] = [queuePath(refOf(fn), fn.name), await deployedOf(fn)];
    const target = { targetUrl: d.url, serviceAccountEmail: o.serviceAccount ?? d.serviceAccount };
    return { queue: tasksQueue(sdk, { queuePath: name, ...target, functionTimeoutMs: fn.options.timeoutMs }), name };
  });

  const platform: CloudPlatform = {
    name: "gcp",
    storeOf: (fn) => storeByName(bucketOf(fn)),
    queueOf,
    invoker: gcpInvoker({ urlOf: async (fn) => (await deployedOf(fn)).url, idToken: internals.idToken ?? googleIdTokens(sdk) }),
    async unqueue(queue, dedupKey) {
      await deleteTask(sdk, taskName(queue, dedupKey));
    },
    async queued(dedupKey) {
      const bodies = await Promise.all((await prefixQueues(sdk, o)).map((queue) => taskBody(sdk, taskName(queue, dedupKey))));
      return bodies.find((body) => body !== undefined);
    },
    retentionMs: o.retentionMs,
    maxInFlight: o.maxInFlight,
    fanOutFrom: o.fanOutFrom,
    ...(deployer === undefined ? {} : { deployer }),
    appStores: async () => (o.bucket !== undefined ? [o.bucket] : await bucketsOfPrefix(sdk, o.prefix)).map(storeByName),
    async applyAutoscaler(fn, settings) {
      const applied = await setInstances(sdk, functionPath(refOf(fn), fn.name), settings);
      deployedOf.forget(fn);
      return applied;
    },
    async platformStats(fn) {
      const [tasks, deployed] = await Promise.all([taskCounts(sdk, queuePath(refOf(fn), fn.name)), deployedOf(fn)]);
      return { ...tasks, warm: deployed.minInstances };
    },
    webUrl: async (fn) => (await unlessNotFound(deployedOf(fn)))?.url,
  };
  return cloudProvider(platform);
}
