/**
 * The wire between a cloud client and its runtime: JSON (invoke payloads and queue messages
 * are text), codec bytes in base64. An envelope names its function, so one handler serves
 * every function of an app, and names the store where its payloads and results live.
 */
import type { GraphEvent } from "../core/call-graph.js";
import type { Input, Outcome } from "../core/provider.js";

/** Where an app's objects live: the platform's name for its store (a bucket) and faasade's key prefix in it. */
export interface StoreRef {
  name: string;
  /** "" in a store of the app's own, "faasade/" in a shared one (keys.ts). */
  prefix: string;
}

export interface Envelope {
  v: 1;
  app: string;
  env: string;
  fn: string;
  inputId: string;
  callId: string;
  attempt: number;
  parent?: string | undefined;
  store?: StoreRef | undefined;
  /** Codec bytes of the argument list, base64; "" when they wait in the store at `argsAt`. */
  args: string;
  argsAt?: string | undefined;
  /** A queued input: which queue it retries through, and how long its result is kept. */
  spawn?: SpawnTarget | undefined;
}

export interface SpawnTarget {
  /** The platform's name for the function's queue (an SQS queue URL, say). */
  queue: string;
  retentionMs: number;
  /** An input of a map sent through the queue: its outcome goes to `map-results/`, and its caller retries it. */
  map?: boolean | undefined;
  /** Not to run before this time (ms since the epoch): a delay longer than the queue can hold is chained. */
  notBefore?: number | undefined;
}

export interface WireOutcome {
  v: 1;
  inputId: string;
  attempt: number;
  status: Outcome["status"];
  value?: string | undefined;
  error?: string | undefined;
  /** Where a value or error too large to answer inline waits (a key in the envelope's store). */
  valueAt?: string | undefined;
  userError?: boolean | undefined;
  message?: string | undefined;
  taskId?: string | undefined;
}

/** What the store holds for a finished queued call (`results/<callId>.json`). */
export interface StoredResult {
  outcome: WireOutcome;
  fn: string;
  isGenerator: boolean;
  finishedAt: number;
  expiresAt: number;
}

/** What `calls/<callId>.json` records, so that a call id alone finds the call. */
export interface CallRecordJson {
  fn: string;
  module: string;
  isGenerator: boolean;
  inputId: string;
  parent?: string | undefined;
  createdAt: number;
}

export const toBase64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
export const fromBase64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64"));

export function toEnvelope(fn: { app: string; environment: string; name: string }, input: Input, store?: StoreRef): Envelope {
  return {
    v: 1,
    ...(store === undefined ? {} : { store }),
    app: fn.app,
    env: fn.environment,
    fn: fn.name,
    inputId: input.inputId,
    callId: input.callId,
    attempt: input.attempt,
    parent: input.parentInputId,
    args: toBase64(input.args),
  };
}

export function toWire(outcome: Outcome): WireOutcome {
  return {
    v: 1,
    inputId: outcome.inputId,
    attempt: outcome.attempt,
    status: outcome.status,
    value: outcome.value && toBase64(outcome.value),
    error: outcome.error && toBase64(outcome.error),
    userError: outcome.userError,
    message: outcome.message,
    taskId: outcome.taskId,
  };
}

export function fromWire(w: WireOutcome): Outcome {
  return {
    inputId: w.inputId,
    attempt: w.attempt,
    status: w.status,
    value: w.value === undefined ? undefined : fromBase64(w.value),
    error: w.error === undefined ? undefined : fromBase64(w.error),
    userError: w.userError,
    message: w.message,
    taskId: w.taskId,
  };
}

export function isEnvelope(value: unknown): value is Envelope {
  const e = value as Partial<Envelope> | null;
  return e !== null && typeof e === "object" && e.v === 1 && typeof e.fn === "string" && typeof e.args === "string";
}

/** A failure outcome for an input that never reached the function (a send refused, say). */
export function lost(input: { inputId: string; attempt: number }, message: string): Outcome {
  return { inputId: input.inputId, attempt: input.attempt, status: "FAILURE", message };
}

/** What a direct invoke answers: the outcome, and the call-graph records made during it. */
export interface InvokeAnswer extends WireOutcome {
  graph?: GraphEvent[] | undefined;
}

/** One line of a streamed invoke: a yielded value (`c`, base64), or the end (`o`). */
export interface StreamLine {
  c?: string;
  o?: InvokeAnswer;
}

/** A stored JSON object's value; `undefined` for a missing object. */
export const parseStored = <T>(bytes: Uint8Array | undefined): T | undefined =>
  bytes === undefined ? undefined : (JSON.parse(Buffer.from(bytes).toString("utf8")) as T);
