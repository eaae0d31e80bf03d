/**
 * Call graphs: every call made from inside a running input records that input as its parent,
 * and every spawned call is a root, so `FunctionCall.getCallGraph()` can rebuild the tree.
 * Records are made where the call is made; a container forwards them to its parent process
 * (see `forwardGraphEvents`), so the process that spawned the root sees the whole tree.
 *
 * Best effort and bounded, as Modal's: the oldest calls are forgotten beyond the limit (limitCallGraph), and a
 * call records its first MAX_INPUTS inputs.
 */
import type { FunctionSpec, InputStatus } from "./provider.js";

export interface InputInfo {
  inputId: string;
  functionCallId: string;
  /** The container that ran the input; "" until it has an outcome. */
  taskId: string;
  status: InputStatus;
  functionName: string;
  /** URL of the module that defines the function. */
  moduleName: string;
  children: InputInfo[];
}

/** A call was made (`parent`: the input it was made from), or one of its inputs changed status. */
export type GraphEvent =
  | { readonly call: string; readonly parent: string | undefined; readonly fn: string; readonly module: string }
  | { readonly call: string; readonly input: string; readonly status: InputStatus; readonly task: string };

interface CallNode {
  readonly functionName: string;
  readonly moduleName: string;
  readonly inputs: Map<string, { status: InputStatus; taskId: string }>;
}

let maxCalls = 50_000;
const MAX_INPUTS = 10_000;
const calls = new Map<string, CallNode>();
/** Input id → ids of the calls made from inside it, in order. */
const childCalls = new Map<string, string[]>();
const parentOf = new Map<string, string>();
let forward: ((events: GraphEvent[]) => void) | undefined;
let outbox: GraphEvent[] = [];
let observer: ((events: readonly GraphEvent[]) => void) | undefined;

/** A deployment server keeps every record durably: `persist` sees each batch as it is applied. */
export function observeGraphEvents(persist: ((events: readonly GraphEvent[]) => void) | undefined): void {
  observer = persist;
}

/** Whether this process knows the call (as a root or from inside another). */
export function hasCall(callId: string): boolean {
  return calls.has(callId);
}

/** In a container: hand every record to `send` as well (batched; `flushGraphEvents` sends now). */
export function forwardGraphEvents(send: (events: GraphEvent[]) => void): void {
  forward = send;
}

/** Sends forwarded records now: a container calls this before reporting results, so a parent's tree is complete when its result arrives. */
export function flushGraphEvents(): void {
  if (outbox.length === 0 || forward === undefined) return;
  const events = outbox;
  outbox = [];
  forward(events);
}

export function recordCall(callId: string, parentInputId: string | undefined, spec: FunctionSpec): void {
  applyGraphEvents([{ call: callId, parent: parentInputId, fn: spec.name, module: spec.module }]);
}

export function recordInput(callId: string, inputId: string, status: InputStatus, taskId = ""): void {
  applyGraphEvents([{ call: callId, input: inputId, status, task: taskId }]);
}

/** Applies records made here or forwarded by a container. */
export function applyGraphEvents(events: readonly GraphEvent[]): void {
  restoreGraphEvents(events);
  observer?.(events);
  if (forward !== undefined) {
    const first = outbox.length === 0;
    for (const e of events) outbox.push(e);
    if (first) setImmediate(flushGraphEvents);
  }
}

/**
 * How many calls this process keeps in memory (the oldest are forgotten first). A deployment
 * server keeps few: its records are durable, and it reads older trees back on demand.
 */
export function limitCallGraph(calls: number): void {
  maxCalls = calls;
}

/** Records read back from where they were kept: applied here, neither persisted again nor forwarded. */
export function restoreGraphEvents(events: readonly GraphEvent[]): void {
  for (const e of events) {
    if ("fn" in e) addCall(e.call, e.parent, e.fn, e.module);
    else {
      const inputs = calls.get(e.call)?.inputs;
      if (inputs !== undefined && (inputs.has(e.input) || inputs.size < MAX_INPUTS)) {
        inputs.set(e.input, { status: e.status, taskId: e.task });
      }
    }
  }
}

function addCall(callId: string, parent: string | undefined, functionName: string, moduleName: string): void {
  if (calls.has(callId)) return;
  calls.set(callId, { functionName, moduleName, inputs: new Map() });
  if (parent !== undefined) {
    parentOf.set(callId, parent);
    const siblings = childCalls.get(parent);
    if (siblings === undefined) childCalls.set(parent, [callId]);
    else siblings.push(callId);
  }
  while (calls.size > maxCalls) forgetOldest();
}

function forgetOldest(): void {
  const [oldest, node] = calls.entries().next().value as [string, CallNode];
  calls.delete(oldest);
  for (const inputId of node.inputs.keys()) childCalls.delete(inputId);
  const parent = parentOf.get(oldest);
  parentOf.delete(oldest);
  if (parent !== undefined) {
    const siblings = childCalls.get(parent)?.filter((c) => c !== oldest);
    if (siblings === undefined || siblings.length === 0) childCalls.delete(parent);
    else childCalls.set(parent, siblings);
  }
}

/** The tree of a call: its inputs, each with the inputs of the calls made from inside it. */
export function callGraph(callId: string): InputInfo[] {
  return inputsOf(callId, new Set());
}

function inputsOf(callId: string, seen: Set<string>): InputInfo[] {
  const node = calls.get(callId);
  if (node === undefined || seen.has(callId)) return [];
  seen.add(callId);
  const out: InputInfo[] = [];
  for (const [inputId, { status, taskId }] of node.inputs) {
    const children: InputInfo[] = [];
    for (const child of childCalls.get(inputId) ?? []) children.push(...inputsOf(child, seen));
    out.push({
      inputId,
      functionCallId: callId,
      taskId,
      status,
      functionName: node.functionName,
      moduleName: node.moduleName,
      children,
    });
  }
  return out;
}
