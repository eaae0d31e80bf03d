/**
 * A cloud provider from its platform's primitives: everything a cloud does the same way
 * (lookup from the stored manifest, the invoke path, maps through the queue, durable calls,
 * autoscaler settings kept beside the app, stats assembled from the platform's counts) is
 * here, once. A cloud provider module gives a `CloudPlatform` and gets a core `Provider`.
 */
import QuickLRU from "quick-lru";
import { NotFoundError } from "../core/errors.js";
import { rideThrough } from "../core/transport.js";
import { type AppManifest, specOf } from "../core/manifest.js";
import type {
  AutoscalerKey,
  AutoscalerSettings,
  DeployedApp,
  Deployer,
  EffectiveAutoscaler,
  FunctionSpec,
  FunctionStats,
  Input,
  OutcomeSink,
  Provider,
} from "../core/provider.js";
import { listApps } from "./apps.js";
import { batchedSender } from "./batching.js";
import { type CallLister, callLister } from "./call-list.js";
import { type AppStore, type CloudCallStore, REMEMBERED_CALLS, cloudCalls } from "./calls.js";
import { fanOut } from "./fanout.js";
import { invokePath } from "./invoke-path.js";
import { keysIn } from "./keys.js";
import { offloadArgs } from "./offload.js";
import type { Invoker, Queue } from "./primitives.js";
import { parseStored, toEnvelope, unreachable } from "./wire.js";

/** What the platform counts for one function (approximate where the platform is). */
export interface PlatformStats {
  /** Messages waiting in the function's queue. */
  queued: number;
  /** Messages being processed (received, not yet deleted). */
  processing: number;
  /** Environments kept warm (provisioned). */
  warm: number;
}

export interface CloudPlatform {
  readonly name: string;
  /** An app's store and the reference runtimes receive. */
  storeOf(fn: { app: string; environment: string }): AppStore;
  /** The stores of every app this provider can see, where a call made elsewhere is looked for. */
  appStores(): Promise<AppStore[]>;
  /** A function's queue and the name its runtime knows it by. */
  queueOf(fn: FunctionSpec): Promise<{ queue: Queue; name: string }>;
  /**
   * Removes a message still queued by its queue's name and `dedupKey`, where the platform names messages
   * (cancel); `receipt` is the call record's (`Queue.receiptOf`), where the queue gave one.
   */
  unqueue?(queue: string, dedupKey: string, receipt?: string): Promise<void>;
  /** A queued message's body by its `dedupKey`, in any of the platform's queues, where it can read one back (calls.ts). */
  queued?(dedupKey: string): Promise<string | undefined>;
  readonly invoker: Invoker;
  /** How long queued calls' results are kept. */
  readonly retentionMs: number;
  /** Invokes in flight at once from this process. */
  readonly maxInFlight: number;
  /** A map whose first batch has at least this many inputs goes through the queue. */
  readonly fanOutFrom: number;
  /**
   * The longest a synchronous call can be held open (Azure's front end answers no HTTP request after 230 s):
   * the inputs of a function whose timeout is longer go through the queue and the store, also for `remote`.
   * @default no limit
   */
  readonly invokeLimitMs?: number;
  /** Applies merged settings on the platform; names what it cannot honour, and the effective maximum. */
  applyAutoscaler(
    fn: FunctionSpec,
    settings: AutoscalerSettings,
  ): Promise<{ maxContainers: number; unsupported: AutoscalerKey[] }>;
  platformStats(fn: FunctionSpec): Promise<PlatformStats>;
  /** The web function's URL as deployed; undefined when it is not deployed there. */
  webUrl(fn: FunctionSpec): Promise<string | undefined>;
  readonly deployer?: Deployer;
}

export interface CloudProvider extends Provider {
  lookup(app: string, environment: string, name: string): Promise<FunctionSpec>;
  autoscalerSettings(fn: FunctionSpec): Promise<AutoscalerSettings>;
  updateAutoscaler(fn: FunctionSpec, settings: AutoscalerSettings): Promise<EffectiveAutoscaler>;
  getCurrentStats(fn: FunctionSpec): Promise<FunctionStats>;
  readonly calls: CloudCallStore;
  /** The apps whose manifests the provider's stores hold (what lookup finds), without the control plane. */
  deployedApps(): Promise<DeployedApp[]>;
  /**
   * Calls' summaries, and a function's spawned calls newest first where each spawn writes a record: not where
   * a pending call is only its queued message (`CloudPlatform.queued`), as nothing in the store names it then.
   */
  readonly callList: CallLister;
}

export function cloudProvider(platform: CloudPlatform): CloudProvider {
  const send = batchedSender();
  const fan = fanOut(send, platform.unqueue?.bind(platform));
  const invokes = invokePath(platform.invoker, platform.maxInFlight);
  const manifests = new Map<string, Promise<AppManifest | undefined>>();
  /** The path each map takes, by call id, decided on its first batch. */
  const paths = new QuickLRU<string, "invoke" | "queue">({ maxSize: REMEMBERED_CALLS });
  const settingsKey = (fn: FunctionSpec) => keysIn(platform.storeOf(fn).ref.prefix).settings(fn, fn.name);

  const readManifest = (app: string, environment: string) => {
    const id = `${environment}/${app}`;
    let found = manifests.get(id);
    if (found === undefined) {
      const { store, ref } = platform.storeOf({ app, environment });
      found = store.get(keysIn(ref.prefix).manifest({ app, environment })).then((b) => parseStored<AppManifest>(b));
      manifests.set(id, found);
      // Only a found manifest is remembered: an app deployed later is found on the next lookup.
      found.then(
        (m) => m === undefined && manifests.delete(id),
        () => manifests.delete(id),
      );
    }
    return found;
  };

  const pathOf = (fn: FunctionSpec, inputs: readonly Input[]): "invoke" | "queue" => {
    const callId = inputs[0]?.callId ?? "";
    let path = paths.get(callId);
    if (path === undefined) {
      // A large map of a plain function may go through the queue, and so does every input of one that runs longer
      // than a call can be held; generators stream (their answer begins at once), calls and small maps invoke.
      const queued =
        inputs.length >= platform.fanOutFrom || fn.options.timeoutMs > (platform.invokeLimitMs ?? Number.POSITIVE_INFINITY);
      path = !fn.isGenerator && fn.options.web === undefined && queued ? "queue" : "invoke";
      if (inputs.length > 1) paths.set(callId, path);
    }
    return path;
  };

  const queueInputs = (fn: FunctionSpec, inputs: readonly Input[], sink: OutcomeSink) => {
    const app = platform.storeOf(fn);
    // Offloads are idempotent puts: the whole preparation is tried again through passing failures.
    rideThrough(async () => {
      const { queue, name } = await platform.queueOf(fn);
      const spawn = { queue: name, retentionMs: platform.retentionMs, map: true };
      const envelopes = await Promise.all(
        inputs.map((input) => offloadArgs(app.store, { ...toEnvelope(fn, input, app.ref), spawn }, queue.maxMessageBytes)),
      );
      return { queue, name, envelopes };
    }).then(
      ({ queue, name, envelopes }) => fan.submit(envelopes, inputs, sink, app, { queue, name }),
      (err: unknown) => {
        for (const input of inputs) sink.outcome(input, unreachable(input, err));
      },
    );
  };

  return {
    name: platform.name,
    canTerminateContainers: false,
    calls: cloudCalls({
      storeOf: platform.storeOf,
      appStores: platform.appStores,
      queueOf: platform.queueOf,
      send,
      retentionMs: platform.retentionMs,
      ...(platform.unqueue === undefined ? {} : { unqueue: platform.unqueue }),
      ...(platform.queued === undefined ? {} : { queued: platform.queued }),
    }),
    callList: callLister(platform.storeOf, { listable: platform.queued === undefined }),
    deployedApps: async () => listApps(await platform.appStores()),
    ...(platform.deployer === undefined ? {} : { deployer: platform.deployer }),
    async lookup(app, environment, name) {
      const manifest = await readManifest(app, environment);
      if (manifest === undefined) {
        throw new NotFoundError(
          `app ${JSON.stringify(app)} (environment ${JSON.stringify(environment)}) is not deployed on ${platform.name}`,
        );
      }
      const fn = manifest.functions.find((f) => f.name === name);
      if (fn === undefined)
        throw new NotFoundError(`app ${JSON.stringify(app)} has no function ${JSON.stringify(name)} on ${platform.name}`);
      return specOf(manifest, fn);
    },
    submit(fn, inputs, sink) {
      if (pathOf(fn, inputs) === "queue") return queueInputs(fn, inputs, sink);
      const app = platform.storeOf(fn);
      for (const input of inputs) invokes.submit(fn, app, input, sink);
    },
    abort(_fn, inputIds) {
      invokes.abort(inputIds);
      fan.abort(inputIds);
    },
    async autoscalerSettings(fn) {
      const stored = parseStored<AutoscalerSettings>(await platform.storeOf(fn).store.get(settingsKey(fn)));
      if (stored !== undefined) return stored;
      const { minContainers, maxContainers, bufferContainers, scaledownWindowMs } = fn.options;
      return { minContainers, maxContainers, bufferContainers, scaledownWindowMs };
    },
    async updateAutoscaler(fn, settings): Promise<EffectiveAutoscaler> {
      const applied = await platform.applyAutoscaler(fn, settings);
      await platform.storeOf(fn).store.put(settingsKey(fn), JSON.stringify(settings));
      return {
        minContainers: settings.minContainers,
        maxContainers: settings.maxContainers ?? applied.maxContainers,
        bufferContainers: settings.bufferContainers,
        scaledownWindowMs: settings.scaledownWindowMs,
        unsupported: applied.unsupported,
      };
    },
    async getCurrentStats(fn): Promise<FunctionStats> {
      const counted = await platform.platformStats(fn);
      const numRunningInputs = counted.processing + invokes.inFlight(fn);
      return { backlog: counted.queued, numTotalRunners: Math.max(counted.warm, numRunningInputs), numRunningInputs };
    },
    webUrl: (fn) => (fn.options.web === undefined ? undefined : platform.webUrl(fn)),
    async close() {
      invokes.close();
      fan.close();
    },
  };
}

/** A deployer whose code (bundling, control-plane calls) loads at first use: runtimes never carry it. */
export function lazyDeployer(load: () => Promise<Deployer>): Deployer {
  return {
    deploy: async (...args) => (await load()).deploy(...args),
    destroy: async (...args) => (await load()).destroy(...args),
    list: async () => (await load()).list(),
  };
}
