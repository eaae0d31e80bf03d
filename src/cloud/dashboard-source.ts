/**
 * The dashboard's source for a cloud's deployed apps, over the cloud layer: apps from the manifests
 * in the provider's stores, stats and Keep warm as the core's calls make them, a function's calls where the provider
 * keeps a record per spawn (`CallLister.list`), and calls by id from the store. A cloud tells no one
 * when a call changes: the live feed polls (call-watch.ts).
 */
import { newPending } from "../core/attempts.js";
import { callGraph, hasCall } from "../core/call-graph.js";
import { InvalidError, NotFoundError } from "../core/errors.js";
import { newCallId, newInputId } from "../core/ids.js";
import type { FunctionSpec, Provider } from "../core/provider.js";
import { nestedView, outcomeView } from "../dashboard/views.js";
import type { CallDetail, DashboardApp, DashboardSource, FunctionRef, NestedCall } from "../dashboard/source.js";
import { callWatch } from "./call-watch.js";
import { freshFor } from "./once.js";
import type { CloudProvider } from "./provider.js";

/** How often the live feed looks at the store, and how many of each function's newest calls it reads then. */
const WATCH_EVERY_MS = 1_000;
const WATCH_NEWEST = 20;
/** How long one read of the apps (manifests, settings) or of the stats serves every page and feed that asks. */
const APPS_FOR_MS = 5_000;
const STATS_FOR_MS = 900;

export const isCloudProvider = (p: Provider): p is CloudProvider =>
  typeof (p as Partial<CloudProvider>).calls?.stored === "function";

export function cloudDashboardSource(provider: CloudProvider): DashboardSource {
  const { calls, callList } = provider;
  const refOf = (s: FunctionSpec): FunctionRef => ({ env: s.environment, app: s.app, fn: s.name });
  const specOf = (ref: FunctionRef) => provider.lookup(ref.app, ref.env, ref.fn);

  const deployed = freshFor(APPS_FOR_MS, async () => {
    const specs: FunctionSpec[] = [];
    const shown: DashboardApp[] = [];
    for (const a of await provider.deployedApps()) {
      const fns = await Promise.all(a.functions.map((f) => provider.lookup(a.app, a.environment, f.name)));
      specs.push(...fns);
      const functions = await Promise.all(
        fns.map(async (s) => ({
          name: s.name,
          web: s.options.web !== undefined,
          autoscaler: await provider.autoscalerSettings(s),
        })),
      );
      shown.push({ app: a.app, env: a.environment, deployedAt: a.deployedAt, functions });
    }
    return { specs, shown };
  });
  const stats = freshFor(STATS_FOR_MS, async () => {
    const { specs } = await deployed.get();
    return Promise.all(specs.map(async (s) => ({ ...refOf(s), ...(await provider.getCurrentStats(s)) })));
  });

  /** A stored call: its record and result, and its summary now. */
  const storedCall = async (callId: string) => {
    const { record, result } = await calls.stored(callId);
    const ref = { env: record.env ?? "", app: record.app ?? "", fn: record.fn };
    return { record, result, summary: await callList.summary(ref, callId, record.createdAt) };
  };

  const watch = callWatch({
    everyMs: WATCH_EVERY_MS,
    functions: async () => (callList.list === undefined ? [] : (await deployed.get()).specs.map(refOf)),
    newest: async (ref) => (await callList.list?.(ref, { limit: WATCH_NEWEST }))?.calls ?? [],
    again: (last) => callList.summary(last, last.functionCallId, last.startedAt),
    failed: (err, looks) =>
      console.error(
        `faasade: the dashboard's look at the calls failed${looks > 1 ? ` (${looks} looks in a row; it goes on trying)` : ""}:`,
        err,
      ),
    recovered: (looks) => console.error(`faasade: the dashboard's look at the calls works again, after ${looks} failed`),
  });

  return {
    apps: async () => (await deployed.get()).shown,
    stats: () => stats.get(),
    async calls(ref, query) {
      await specOf(ref);
      if (callList.list === undefined) {
        throw new InvalidError(
          `${provider.name} cannot list calls: a pending call there is only its queued task, and nothing in the store names it until it ends (docs/dashboard.md); open a call by its id`,
        );
      }
      return callList.list(ref, query);
    },
    async call(callId): Promise<CallDetail | NestedCall | undefined> {
      const found = await storedCall(callId).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      // A call made from inside another has no record: its tree is known here once its parent's was read.
      if (found === undefined) return hasCall(callId) ? nestedView(callId, callGraph(callId)) : undefined;
      const out: CallDetail = { ...found.summary, stored: true, graph: await calls.callGraph(callId) };
      if (found.result === undefined) out.attempt = await callList.attemptsStarted(found.summary, callId);
      if (found.result === undefined || found.summary.status === "EXPIRED") return out;
      const { outcome } = await calls.state(callId, 0);
      return outcome === undefined ? out : { ...out, ...outcomeView(found.record.fn, outcome) };
    },
    async cancel(callId) {
      if ((await calls.state(callId, 0)).state !== "pending") return false;
      await calls.cancel(callId, {});
      const { summary } = await storedCall(callId);
      watch.saw(summary);
      return true;
    },
    async runAgain(callId) {
      const { summary } = await storedCall(callId);
      const args = await calls.argsOf(callId);
      if (args === undefined) throw new NotFoundError(`call ${callId} kept no arguments to run again with`);
      const spec = await specOf(summary);
      const id = calls.newCallId?.(spec) ?? newCallId();
      await calls.spawn(spec, newPending(newInputId(), id, args, 0, undefined));
      watch.saw({ ...summary, functionCallId: id, status: "PENDING", attempt: 1, startedAt: Date.now(), durationMs: null });
      return id;
    },
    async keepWarm(ref, n) {
      const spec = await specOf(ref);
      const applied = await provider.updateAutoscaler(spec, { ...(await provider.autoscalerSettings(spec)), minContainers: n });
      deployed.forget();
      const { minContainers, maxContainers, bufferContainers, scaledownWindowMs } = applied;
      return { minContainers, maxContainers, bufferContainers, scaledownWindowMs };
    },
    watchCalls: (changed, only) => watch.add(changed, only),
    async summaries(callIds) {
      return callIds.flatMap((id) => watch.last(id) ?? []);
    },
  };
}
