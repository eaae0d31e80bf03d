/**
 * The dashboard's source for the local deployment server: its SQLite store (call lists, calls),
 * its apps and autoscaler settings, its pools' stats, call graphs, and cancel and spawn as the
 * control API does them.
 */
import { type InputInfo, callGraph, hasCall, restoreGraphEvents } from "../../../core/call-graph.js";
import { decode } from "../../../core/codec.js";
import { NotFoundError } from "../../../core/errors.js";
import { newCallId, newInputId } from "../../../core/ids.js";
import { outcomeError } from "../../../core/outcome.js";
import type { AutoscalerSettings, FunctionSpec } from "../../../core/provider.js";
import { jsonValue } from "../../../dashboard/json-value.js";
import { cursorOf, splitCursor } from "../../../dashboard/params.js";
import type { CallDetail, CallError, CallSummary, DashboardSource, FunctionRef, NestedCall } from "../../../dashboard/source.js";
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
      return row === undefined ? nested(callId, store) : detail(row, store);
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

function nested(callId: string, store: Store): NestedCall | undefined {
  const graph = graphOf(callId, store);
  const first = graph[0];
  if (first === undefined) return undefined;
  // A map's call has many inputs: it is pending while one is, else it shows the first one's end.
  const status = graph.some((i) => i.status === "PENDING") ? "PENDING" : first.status;
  return { functionCallId: callId, stored: false, functionName: first.functionName, status, graph };
}

function detail(row: CallRow, store: Store): CallDetail {
  const out: CallDetail = { ...summary(row), stored: true, graph: graphOf(row.call_id, store) };
  const { outcome } = callState(row);
  if (outcome === undefined) return out; // pending or expired
  if (outcome.status === "SUCCESS") out.result = jsonValue(decode(outcome.value ?? UNDEFINED));
  else out.error = errorOf(row.fn, outcome);
  return out;
}

const UNDEFINED = new Uint8Array([0xf7]);

function errorOf(fn: string, outcome: Parameters<typeof outcomeError>[1]): CallError {
  const err = outcomeError(fn, outcome);
  const out: CallError = { class: err.name, message: err.message };
  const cause = err.cause;
  if (cause instanceof Error) {
    out.remote = { name: cause.name, message: cause.message };
    if (cause.stack !== undefined) out.remote.stack = cause.stack;
  }
  return out;
}
