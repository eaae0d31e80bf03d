/**
 * One input run inside a cloud function, whatever brought it (an invoke, a queue message, an
 * HTTP request): the app's function found by name, the shared executor, the attempt's timeout,
 * and the call-graph records the input made.
 */
import { type GraphEvent, flushGraphEvents, forwardGraphEvents } from "../core/call-graph.js";
import { InputContext } from "../core/context.js";
import { InputCancelledError, ProviderError } from "../core/errors.js";
import { importAppModule } from "../core/importing.js";
import { execute, failure } from "../core/executor.js";
import type { Function_ } from "../core/function.js";
import type { FunctionSpec, Outcome } from "../core/provider.js";
import { findApp } from "../core/registry.js";
import { webAdapter } from "../core/web.js";
import { PayloadMissingError } from "./offload.js";
import { runningUntil } from "./watchdog.js";
import type { Envelope } from "./wire.js";

let loading: Promise<void> | undefined;
let initError: Error | undefined;

/**
 * Imports the app's module through `load` before the first input runs: an import that fails
 * then answers every input with INIT_FAILURE (a `RemoteError` for the caller) instead of an
 * environment that cannot start, whose queued inputs would be delivered again forever.
 */
export function appModule(load: () => Promise<unknown>): void {
  loading = importAppModule("the app's module", load).then(
    () => undefined,
    (err: unknown) => {
      initError = err instanceof Error ? err : new Error(String(err));
      console.error("faasade: the app's module failed to import:", err);
    },
  );
}

/** The function an envelope names, once the app has loaded; or why there is none. */
export async function functionOf(e: Pick<Envelope, "app" | "env" | "fn">): Promise<Function_ | string> {
  await loading;
  if (initError !== undefined) return `the app's module failed to import: ${initError.message}`;
  const handle = findApp(e.app, e.env)?.functionByName(e.fn);
  return (
    handle ??
    `this bundle defines no function ${JSON.stringify(e.fn)} of app ${JSON.stringify(e.app)} (environment ${JSON.stringify(e.env)})`
  );
}

export interface Ran {
  outcome: Outcome;
  graph: GraphEvent[];
  spec: FunctionSpec | undefined;
}

/** Runs one input through the shared executor, with its timeout and the call-graph records it makes. */
export async function runInput(
  e: Envelope,
  taskId: string,
  args: () => Promise<Uint8Array>,
  onChunk: (value: Uint8Array) => void,
  /** Told the input's context as it starts; what it returns runs when the input ends. */
  onStart: (ctx: InputContext) => (() => void) | undefined = () => undefined,
): Promise<Ran> {
  const base = { inputId: e.inputId, attempt: e.attempt, taskId };
  const handle = await functionOf(e);
  if (typeof handle === "string")
    return { outcome: { ...base, status: "INIT_FAILURE", message: handle }, graph: [], spec: undefined };
  const { spec } = handle.definition();
  const raw = (spec.options.web ? webAdapter(handle.getRawF()) : handle.getRawF()) as (...args: unknown[]) => unknown;
  const events: GraphEvent[] = [];
  forwardGraphEvents((batch) => events.push(...batch));
  const ctx = new InputContext(e.inputId, e.callId, e.attempt);
  const stopWatching = onStart(ctx);
  const deadline = attemptDeadline(ctx, spec.options.timeoutMs);
  try {
    const bytes = await argsOrMissing(args);
    if (bytes instanceof ProviderError) return { outcome: { ...base, ...failure(bytes, false) }, graph: [], spec };
    const result = await Promise.race([execute(raw, ctx, bytes, spec.isGenerator, onChunk), deadline.timedOut]);
    const outcome: Outcome =
      result === "timeout"
        ? { ...base, status: "TIMEOUT", message: `function ${JSON.stringify(e.fn)} timed out after ${spec.options.timeoutMs} ms` }
        : { ...result, ...base };
    flushGraphEvents();
    return { outcome, graph: events, spec };
  } finally {
    deadline.clear();
    stopWatching?.();
    forwardGraphEvents(() => {});
  }
}

/** The input's arguments, or the error that they are gone (any other refusal throws, to be delivered again). */
async function argsOrMissing(args: () => Promise<Uint8Array>): Promise<Uint8Array | ProviderError> {
  try {
    return await args();
  } catch (err) {
    if (err instanceof PayloadMissingError) return new ProviderError(err.message);
    throw err;
  }
}

/**
 * An attempt's timeout: at `timeoutMs` the input's signal aborts and `timedOut` resolves, for
 * the caller to race its work against; `clear` once the work is over. Where a runtime watches
 * for blocked inputs (watchdog.ts), the deadline is watched too.
 */
export function attemptDeadline(ctx: InputContext, timeoutMs: number): { timedOut: Promise<"timeout">; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const over = runningUntil(Date.now() + timeoutMs);
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      ctx.abort(new InputCancelledError(`timed out after ${timeoutMs} ms`));
      resolve("timeout");
    }, timeoutMs);
  });
  return {
    timedOut,
    clear: () => {
      clearTimeout(timer);
      over();
    },
  };
}

/** The call-graph records `record` makes. */
export function captureGraph(record: () => unknown): GraphEvent[] {
  const events: GraphEvent[] = [];
  forwardGraphEvents((batch) => events.push(...batch));
  try {
    record();
    flushGraphEvents();
  } finally {
    forwardGraphEvents(() => {});
  }
  return events;
}
