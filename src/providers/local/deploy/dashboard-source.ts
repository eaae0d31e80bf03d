/**
 * The dashboard's source for the local deployment server: its SQLite store (call lists, calls),
 * its apps and autoscaler settings, its pools' stats, call graphs, and cancel and spawn as the
 * control API does them.
 */
import { type InputInfo, callGraph, hasCall, restoreGraphEvents } from "../../../core/call-graph.js";
import { NotFoundError } from "../../../core/errors.js";
import { newCallId, newInputId } from "../../../core/ids.js";
import type { AutoscalerSettings, FunctionSpec } from "../../../core/provider.js";
import { nestedView, outcomeView } from "../../../dashboard/views.js";
import { cursorOf, splitCursor } from "../../../dashboard/params.js";
import type { CallDetail, CallSummary, DashboardSource, FunctionRef } from "../../../dashboard/source.js";
import type { LocalProvider } from "../index.js";
import { type Spawns, callState } from "./spawns.js";
import type { CallRow, ListedCall, Store } from "./store.js";

export interface LocalDashboardDeps {
  store: Store;
  spawns: Spawns;
  provider: LocalProvider;
  /** The spec deployed now, if the function is. */
  specOf(env: string, app: string, fn: string): FunctionSpec | undefined;
  settingsOf(spec: FunctionSpec): AutoscalerSettings;
  /** Applies and stores the function's settings, as the control API's autoscaler route does. */
  applySettings(spec: FunctionSpec, settings: AutoscalerSettings): Promise<void>;
}

export function localDashboardSource(deps: LocalDashboardDeps): DashboardSource {
  const { store, spawns, provider } = deps;
  const deployed = (ref: FunctionRef): FunctionSpec => {
    const spec = deps.specOf(ref.env, ref.app, ref.fn);
    if (spec === undefined) {
      throw new NotFoundError(`no function ${ref.fn} of app ${ref.app} (environment ${ref.env}) is deployed`);
    }
    return spec;
  };
  const stored = (callId: string): CallRow => {
    const row = store.call(callId);
    if (row === undefined) throw new NotFoundError(`no call ${callId} in this deployment`);
    return row;
  };
  const specs = () =>
    store
      .apps()
      .flatMap((a) => a.functions.map((f) => deps.specOf(a.environment, a.app, f.name)))
      .filter((s) => s !== undefined);

  return {
    async apps() {
      return store.apps().map((a) => ({
        app: a.app,
        env: a.environment,
        deployedAt: a.deployedAt,
        functions: a.functions.flatMap((f) => {
          const spec = deps.specOf(a.environment, a.app, f.name);
          return spec === undefined
            ? []
            : [{ name: f.name, web: f.options.web !== undefined, autoscaler: deps.settingsOf(spec) }];
        }),
      }));
    },
    async stats() {
      return Promise.all(
        specs().map(async (s) => ({ env: s.environment, app: s.app, fn: s.name, ...(await provider.getCurrentStats(s)) })),
      );
    },
    async calls(ref, query) {
      deployed(ref);
      const before = query.before === undefined ? undefined : splitCursor(query.before);
      const rows = store.listCalls({
        ...ref,
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(before === undefined ? {} : { before: { createdAt: Number(before[0]), callId: before[1] } }),
        limit: query.limit,
      });
      const last = rows.at(-1);
      return {
        calls: rows.map(summary),
        next: rows.length === query.limit && last !== undefined ? cursorOf(last.created_at, last.call_id) : null,
      };
    },
    async call(callId) {
      const row = store.call(callId);
      return row === undefined ? nestedView(callId, graphOf(callId, store)) : detail(row, store);
    },
    async cancel(callId) {
      const row = stored(callId);
      if (row.status !== "PENDING") return false;
      spawns.cancel(row, false);
      return true;
    },
    async runAgain(callId) {
      const row = stored(callId);
      const spec = deployed(row);
      if (row.status === "EXPIRED") throw new NotFoundError(`call ${callId} has expired: its arguments are no longer stored`);
      const id = newCallId();
      spawns.accept({
        ...pick(row),
        call_id: id,
        input_id: newInputId(),
        attempt: 1,
        parent: null,
        is_gen: spec.isGenerator ? 1 : 0,
      });
      return id;
    },
    async keepWarm(ref, n) {
      const spec = deployed(ref);
      const settings = { ...deps.settingsOf(spec), minContainers: n };
      await deps.applySettings(spec, settings);
      return deps.settingsOf(spec);
    },
    // Told of every change as it happens, the local feed needs no focus: the page keeps what it shows.
    watchCalls: (changed) => spawns.watch(changed),
    async summaries(callIds) {
      return store.listedCalls(callIds).map(summary);
    },
  };
}

const pick = (row: CallRow) => ({ app: row.app, env: row.env, fn: row.fn, args: row.args });

function summary(row: ListedCall): CallSummary {
  return {
    functionCallId: row.call_id,
    env: row.env,
    app: row.app,
    fn: row.fn,
    status: row.status as CallSummary["status"],
    attempt: row.attempt,
    startedAt: row.created_at,
    durationMs: row.finished_at === null ? null : row.finished_at - row.created_at,
  };
}

/** The call's tree; older trees are no longer in memory: read back from the database, as the control API does. */
function graphOf(callId: string, store: Store): InputInfo[] {
  if (!hasCall(callId)) restoreGraphEvents(store.graphEventsOf(callId));
  return callGraph(callId);
}

function detail(row: CallRow, store: Store): CallDetail {
  const out: CallDetail = { ...summary(row), stored: true, graph: graphOf(row.call_id, store) };
  const { outcome } = callState(row);
  return outcome === undefined ? out : { ...out, ...outcomeView(row.fn, outcome) }; // pending or expired: no outcome
}
