/**
 * What the dashboard reads and does, whatever serves it: a deployment (local now, a cloud's
 * later) implements this, and handler.ts serves it over HTTP. Values are plain JSON.
 */
import type { InputInfo } from "../core/call-graph.js";
import type { AutoscalerSettings, FunctionStats, InputStatus } from "../core/provider.js";

export interface FunctionRef {
  env: string;
  app: string;
  fn: string;
}

export interface DashboardFunction {
  name: string;
  web: boolean;
  autoscaler: AutoscalerSettings;
}

export interface DashboardApp {
  app: string;
  env: string;
  deployedAt: number;
  functions: DashboardFunction[];
}

export interface FunctionStatsRow extends FunctionRef, FunctionStats {}

/** One call in a function's list. */
export interface CallSummary extends FunctionRef {
  functionCallId: string;
  status: InputStatus | "EXPIRED";
  attempt: number;
  /** When the call was accepted, ms since the epoch. */
  startedAt: number;
  /** Until it finished; null while pending. */
  durationMs: number | null;
}

export interface CallError {
  /** The contract's error class `get()` rejects with (UserCodeError, InputCancelledError, ...). */
  class: string;
  message: string;
  /** What the function threw, when it threw. */
  remote?: { name: string; message: string; stack?: string };
}

export interface CallDetail extends CallSummary {
  /** A spawned call: its row is stored, with its arguments and outcome. */
  stored: true;
  /** The result as JSON (bytes and other non-JSON values described), when it succeeded. */
  result?: unknown;
  error?: CallError;
  graph: InputInfo[];
}

/**
 * A call made from inside another (`remote`, `map`): only the call graph records it, so there is
 * no result, time or attempt to show, only its status there and its own tree.
 */
export interface NestedCall {
  functionCallId: string;
  stored: false;
  functionName: string;
  status: InputStatus;
  graph: InputInfo[];
}

export interface CallPage {
  calls: CallSummary[];
  /** Pass as `before` for the next (older) page; null on the last. */
  next: string | null;
}

export interface CallQuery {
  status?: InputStatus | "EXPIRED";
  /** A cursor from a previous page's `next`. */
  before?: string;
  limit: number;
}

export interface DashboardSource {
  apps(): Promise<DashboardApp[]>;
  /** Live stats of every deployed function. */
  stats(): Promise<FunctionStatsRow[]>;
  /** A function's calls, newest first. Throws NotFoundError for a function not deployed. */
  calls(ref: FunctionRef, query: CallQuery): Promise<CallPage>;
  /** Undefined for a call this deployment does not know. */
  call(callId: string): Promise<CallDetail | NestedCall | undefined>;
  /** Whether the call was still pending (and is cancelled now). Throws NotFoundError for an unknown call. */
  cancel(callId: string): Promise<boolean>;
  /** A new spawn with the call's arguments; its call id. */
  runAgain(callId: string): Promise<string>;
  /** Sets the function's `minContainers`; the settings in force after it. */
  keepWarm(ref: FunctionRef, n: number): Promise<AutoscalerSettings>;
  /**
   * Calls made or changed from now on, by id, until the returned function is called: those of `only`
   * where given (a page of one function's calls; a source that polls then reads that one), else of every function.
   */
  watchCalls(changed: (callId: string) => void, only?: FunctionRef): () => void;
  /** Summaries of the given calls (those still known). */
  summaries(callIds: readonly string[]): Promise<CallSummary[]>;
}
