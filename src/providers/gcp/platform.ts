/**
 * The Google Cloud platform under the cloud layer: Cloud Storage buckets as object stores, Cloud
 * Tasks queues as queues, authenticated HTTPS to each function's URL as the invoker, min/max
 * instances for the autoscaler, and the counts stats are made of. Names follow names.ts, so any
 * process finds an app from its name.
 */
import QuickLRU from "quick-lru";
import type { AppStore } from "../../cloud/calls.js";
import { type CloudPlatform, type CloudProvider, cloudProvider } from "../../cloud/provider.js";
import type { Deployer, FunctionSpec } from "../../core/provider.js";
import { type GcpClients, gcpCall, gcpClients } from "./clients.js";
import { gcsStore } from "./gcs-store.js";
import { gcpInvoker, googleIdTokens } from "./invoker.js";
import { type AppRef, bucketName, functionPath, keyPrefixOf, queuePath } from "./names.js";
import { type GcpOptions, type ResolvedGcpOptions, resolveGcpOptions } from "./options.js";
import { type TasksQueue, deleteTask, prefixQueues, taskBody, taskName, tasksQueue } from "./tasks-queue.js";

export type GcpProvider = CloudProvider;

/** What a deployed function is reached by: its URL, and the account Cloud Tasks signs its ID tokens as. */
interface Deployed {
  url: string;
  serviceAccount: string | undefined;
  minInstances: number;
}

const REMEMBERED = 1000;

/** Internal seams for the offline backend: where ID tokens come from. */
export interface GcpInternals {
  idToken?: (audience: string) => Promise<string>;
}

/** The provider over Cloud Storage, Cloud Tasks and Cloud Functions; `deployer` where this process may deploy. */
export function gcpProvider(options: GcpOptions, deployer?: Deployer, internals: GcpInternals = {}): GcpProvider {
  const o = resolveGcpOptions(options);
  const sdk = gcpClients({ project: o.project, endpoints: o.endpoints, authClient: o.authClient });
  const refOf = (fn: { app: string; environment: string }): AppRef => ({ ...o, ...fn });
  const stores = new Map<string, AppStore>();
  const storeByName = (bucket: string): AppStore => {
    let found = stores.get(bucket);
    if (found === undefined) {
      found = { store: gcsStore(sdk, bucket), ref: { name: bucket, prefix: keyPrefixOf(o) } };
      stores.set(bucket, found);
    }
    return found;
  };
  const deployedOf = remembered((fn: FunctionSpec) => readDeployed(sdk, functionPath(refOf(fn), fn.name)));
  const queues = new QuickLRU<string, Promise<{ queue: TasksQueue; name: string }>>({ maxSize: REMEMBERED });

  const platform: CloudPlatform = {
    name: "gcp",
    storeOf: (fn) => storeByName(bucketName(refOf(fn))),
    queueOf(fn) {
      const name = queuePath(refOf(fn), fn.name);
      let found = queues.get(name);
      if (found === undefined) {
        found = deployedOf(fn).then((d) => ({
          queue: tasksQueue(sdk, {
            queuePath: name,
            targetUrl: d.url,
            serviceAccountEmail: o.serviceAccount ?? d.serviceAccount,
            functionTimeoutMs: fn.options.timeoutMs,
          }),
          name,
        }));
        queues.set(name, found);
        found.catch(() => queues.delete(name));
      }
      return found;
    },
    invoker: gcpInvoker({ urlOf: async (fn) => (await deployedOf(fn)).url, idToken: internals.idToken ?? googleIdTokens(sdk) }),
    async unqueue(queue, dedupKey) {
      await deleteTask(sdk, taskName(queue, dedupKey));
    },
    // A spawn writes no record: a pending call made elsewhere is its first task, in one of this prefix's queues.
    async queued(dedupKey) {
      const bodies = await Promise.all((await prefixQueues(sdk, o)).map((queue) => taskBody(sdk, taskName(queue, dedupKey))));
      return bodies.find((body) => body !== undefined);
    },
    retentionMs: o.retentionMs,
    maxInFlight: o.maxInFlight,
    fanOutFrom: o.fanOutFrom,
    ...(deployer === undefined ? {} : { deployer }),
    appStores: async () => (o.bucket !== undefined ? [o.bucket] : await appBuckets(sdk, o)).map(storeByName),
    async applyAutoscaler(fn, settings) {
      const functions = await sdk.functions();
      const name = functionPath(refOf(fn), fn.name);
      const [op] = await gcpCall(`UpdateFunction ${name} (autoscaler)`, () =>
        functions.updateFunction({
          function: {
            name,
            serviceConfig: { minInstanceCount: settings.minContainers, maxInstanceCount: settings.maxContainers ?? DEFAULT_MAX },
          },
          updateMask: { paths: ["service_config.min_instance_count", "service_config.max_instance_count"] },
        }),
      );
      await gcpCall(`UpdateFunction ${name} (waiting)`, () => op.promise());
      deployedOf.forget(fn);
      // Cloud Run keeps no idle buffer beside busy instances, and scales idle ones down on its own clock.
      return { maxContainers: settings.maxContainers ?? DEFAULT_MAX, unsupported: ["bufferContainers", "scaledownWindowMs"] };
    },
    async platformStats(fn) {
      const [tasks, deployed] = await Promise.all([taskCounts(sdk, queuePath(refOf(fn), fn.name)), deployedOf(fn)]);
      return { ...tasks, warm: deployed.minInstances };
    },
    async webUrl(fn) {
      try {
        return (await deployedOf(fn)).url;
      } catch (err) {
        if ((err as Error).name === "NotFoundError") return undefined;
        throw err;
      }
    },
  };
  return cloudProvider(platform);
}

/** Google's default maximum of instances for a 2nd gen function. */
const DEFAULT_MAX = 100;

async function readDeployed(sdk: GcpClients, name: string): Promise<Deployed> {
  const functions = await sdk.functions();
  const [found] = await gcpCall(`GetFunction ${name}`, () => functions.getFunction({ name }));
  const url = found.url ?? found.serviceConfig?.uri;
  if (!url) throw new Error(`gcp function ${name} has no URL yet (state ${String(found.state)})`);
  return {
    url,
    serviceAccount: found.serviceConfig?.serviceAccountEmail ?? undefined,
    minInstances: Number(found.serviceConfig?.minInstanceCount ?? 0),
  };
}

/**
 * Tasks waiting and being dispatched, from the first page of ListTasks (Cloud Tasks v2 has no
 * queue counts): exact up to 1 000 tasks, "at least 1 000" beyond (docs/gcp.md).
 */
async function taskCounts(sdk: GcpClients, parent: string): Promise<{ queued: number; processing: number }> {
  const tasks = await sdk.tasks();
  const [page] = await gcpCall(`ListTasks ${parent}`, () => tasks.listTasks({ parent, pageSize: 1000 }, { autoPaginate: false }));
  const processing = page.filter((t) => Number(t.dispatchCount ?? 0) > Number(t.responseCount ?? 0)).length;
  return { queued: page.length - processing, processing };
}

/** The buckets of this prefix's apps in the project (bucket names start with the prefix). */
async function appBuckets(sdk: GcpClients, o: ResolvedGcpOptions): Promise<string[]> {
  const storage = await sdk.storage();
  const [buckets] = await gcpCall(`listing the buckets of ${o.project}`, () => storage.getBuckets({ prefix: `${o.prefix}-` }));
  return buckets.map((b) => b.name);
}

/** One lookup per key at a time, kept once found; a failure is not kept. */
function remembered<T>(lookup: (fn: FunctionSpec) => Promise<T>) {
  const found = new QuickLRU<string, Promise<T>>({ maxSize: REMEMBERED });
  const key = (fn: FunctionSpec) => `${fn.environment}/${fn.app}/${fn.name}`;
  const get = (fn: FunctionSpec): Promise<T> => {
    let hit = found.get(key(fn));
    if (hit === undefined) {
      hit = lookup(fn);
      found.set(key(fn), hit);
      hit.catch(() => found.delete(key(fn)));
    }
    return hit;
  };
  return Object.assign(get, { forget: (fn: FunctionSpec) => found.delete(key(fn)) });
}
