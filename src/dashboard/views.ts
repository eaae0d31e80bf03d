/** What every dashboard source shows the same way: a finished call's outcome, a nested call. */
import { decode } from "../core/codec.js";
import { outcomeError } from "../core/outcome.js";
import type { Outcome } from "../core/provider.js";
import { jsonValue } from "./json-value.js";
import type { InputInfo } from "../core/call-graph.js";
import type { CallError, NestedCall } from "./source.js";

/** The codec's bytes of `undefined`: a function that returned nothing. */
const UNDEFINED = new Uint8Array([0xf7]);

/** The result as JSON, or the error `get()` rejects with. */
export function outcomeView(fn: string, outcome: Outcome): { result?: unknown; error?: CallError } {
  if (outcome.status === "SUCCESS") return { result: jsonValue(decode(outcome.value ?? UNDEFINED)) };
  return { error: errorOf(fn, outcome) };
}

function errorOf(fn: string, outcome: Outcome): CallError {
  const err = outcomeError(fn, outcome);
  const out: CallError = { class: err.name, message: err.message };
  const cause = err.cause;
  if (cause instanceof Error) {
    out.remote = { name: cause.name, message: cause.message };
    if (cause.stack !== undefined) out.remote.stack = cause.stack;
  }
  return out;
}

/** A call made from inside another, by its tree (only the call graph records it); undefined: no tree. */
export function nestedView(callId: string, graph: InputInfo[]): NestedCall | undefined {
  const first = graph[0];
  if (first === undefined) return undefined;
  // A map's call has many inputs: pending while one is, else it shows the first one's end.
  const status = graph.some((i) => i.status === "PENDING") ? "PENDING" : first.status;
  return { functionCallId: callId, stored: false, functionName: first.functionName, status, graph };
}
