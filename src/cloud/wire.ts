/**
 * The wire between a cloud client and its runtime: JSON (invoke payloads and queue messages
 * are text), codec bytes in base64. An envelope names its function, so one handler serves
 * every function of an app, and names the store where its payloads and results live.
 */
import type { GraphEvent } from "../core/call-graph.js";
import { encode } from "../core/codec.js";
import { FaasadeError, InvalidError, describe } from "../core/errors.js";
import type { Input, Outcome } from "../core/provider.js";
import { keysOf } from "./keys.js";

/** What a streamed call asks for, and the runtime answers with: one JSON line per value, then the outcome. */
export const STREAM_TYPE = "application/x-ndjson";

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
  /** The function's module and kind: what a call record says, for platforms that read a pending call from its message. */
  module?: string | undefined;
  isGenerator?: boolean | undefined;
  /** When the call was spawned (ms since the epoch): every record made from this envelope says so, a retry's and a result's too. */
  createdAt?: number | undefined;
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
  /** The call's record (absent in results of older versions). */
  call?: CallRecordJson | undefined;
  /** The call-graph records the call made: its own, and those of the calls it spawned. */
  graph?: GraphEvent[] | undefined;
}

/**
 * What a call id alone must find out about its call: kept in `calls/<callId>.json`, or read back
 * from the queued message itself where the platform can (`CloudPlatform.queued`), and in its result.
 */
export interface CallRecordJson {
  fn: string;
  module: string;
  isGenerator: boolean;
  inputId: string;
  parent?: string | undefined;
  createdAt?: number | undefined;
  /** The queue it was sent to, by the name its runtime knows (absent in records of older versions). */
  queue?: string | undefined;
  /** The first attempt's message as its queue names it (`Queue.receiptOf`), where the queue names messages so. */
  receipt?: string | undefined;
  /** Where it was spawned, and its arguments as its envelope carried them: what "Run again" sends again (records of spawns). */
  app?: string | undefined;
  env?: string | undefined;
  args?: string | undefined;
  argsAt?: string | undefined;
}

/** The record of a queued call, from its envelope. */
export const recordOf = (e: Envelope): CallRecordJson => ({
  fn: e.fn,
  module: e.spawn?.module ?? "",
  isGenerator: e.spawn?.isGenerator === true,
  inputId: e.inputId,
  parent: e.parent,
  createdAt: e.spawn?.createdAt,
  queue: e.spawn?.queue,
  app: e.app,
  env: e.env,
});

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

/** Ids as faasade makes them (`in-…`, `fc-…`): they become parts of store keys. */
const ID = /^[A-Za-z0-9_.:-]{1,200}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A payload's name: an input's id with its attempt and what it holds (offload.ts). */
const PAYLOAD_ID = /^[A-Za-z0-9_.:-]{1,240}$/;
/** A key offload.ts writes an envelope's arguments under: nothing else of the store may be read as them. */
function isPayloadKey(key: unknown, prefix: string): boolean {
  const folder = keysOf(prefix).payload("");
  return typeof key === "string" && key.startsWith(folder) && PAYLOAD_ID.test(key.slice(folder.length));
}

/** Whether `text` is canonical base64 (Buffer.from would silently skip anything else). */
export const isBase64 = (text: string): boolean => text.length % 4 === 0 && BASE64.test(text);

/**
 * An event as an envelope, every field checked: anything else is an `InvalidError` naming the
 * field and quoting what it held (a caller of our own never sends one; anyone else is told why).
 */
export function checkEnvelope(value: unknown, where = "envelope"): Envelope {
  const e = value as Record<string, unknown> | null;
  const refuse = (field: string, what: string) =>
    new InvalidError(`${where}.${field}: ${what}, got ${describe(e?.[field as keyof typeof e])}`);
  if (typeof e !== "object" || e === null || Array.isArray(e))
    throw new InvalidError(`${where}: expected a faasade envelope (an object), got ${describe(e)}`);
  if (e.v !== 1) throw refuse("v", "expected 1 (the envelope's version)");
  for (const field of ["app", "env", "fn"]) if (typeof e[field] !== "string") throw refuse(field, "expected a string");
  for (const field of ["inputId", "callId"])
    if (typeof e[field] !== "string" || !ID.test(e[field] as string)) throw refuse(field, `expected an id matching ${ID}`);
  if (e.parent !== undefined && (typeof e.parent !== "string" || !ID.test(e.parent)))
    throw refuse("parent", `expected an id matching ${ID}`);
  if (!Number.isInteger(e.attempt) || (e.attempt as number) < 1) throw refuse("attempt", "expected an integer ≥ 1");
  if (typeof e.args !== "string" || !isBase64(e.args)) throw refuse("args", "expected base64 text");
  if (e.argsAt !== undefined && e.store === undefined) throw refuse("store", "expected a store for argsAt");
  if (e.store !== undefined) checkFields(e.store, `${where}.store`, { name: "string", prefix: "text" });
  if (e.argsAt !== undefined && !isPayloadKey(e.argsAt, (e.store as { prefix: string }).prefix))
    throw refuse("argsAt", "expected the key of an offloaded payload (<store prefix>payloads/<id>)");
  if (e.spawn !== undefined) {
    checkFields(e.spawn, `${where}.spawn`, {
      queue: "string",
      retentionMs: "number",
      map: "boolean?",
      notBefore: "number?",
      module: "text?",
      isGenerator: "boolean?",
      createdAt: "number?",
    });
    const spawn = e.spawn as SpawnTarget;
    if (!(spawn.retentionMs >= 0))
      throw new InvalidError(`${where}.spawn.retentionMs: expected a number ≥ 0, got ${spawn.retentionMs}`);
    for (const field of ["notBefore", "createdAt"] as const) {
      const at = spawn[field];
      if (at !== undefined && !Number.isFinite(at))
        throw new InvalidError(`${where}.spawn.${field}: expected a time in ms, got ${at}`);
    }
  }
  return e as unknown as Envelope;
}

/** `types`: a typeof per field ("?" optional; "string" non-empty, "text" any string). */
function checkFields(value: unknown, where: string, types: Record<string, string>): void {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidError(`${where}: expected an object, got ${describe(value)}`);
  for (const [field, type] of Object.entries(types)) {
    const got = (value as Record<string, unknown>)[field];
    if (got === undefined && type.endsWith("?")) continue;
    const base = type.replace("?", "").replace("text", "string");
    if (typeof got !== base || (type === "string" && got === ""))
      throw new InvalidError(
        `${where}.${field}: expected a ${type === "string" ? "non-empty string" : base}, got ${describe(got)}`,
      );
  }
}

/** A failure outcome for an input that never reached the function (a send refused, say). */
export function lost(input: { inputId: string; attempt: number }, message: string): Outcome {
  return { inputId: input.inputId, attempt: input.attempt, status: "FAILURE", message };
}

/** A call that failed for good: faasade's own error (InternalFailure once ridden through) reaches the caller as itself. */
export function unreachable(input: Input, err: unknown): Outcome {
  if (!(err instanceof FaasadeError)) return lost(input, (err as Error)?.message ?? String(err));
  let error: Uint8Array;
  try {
    error = encode(err, "error");
  } catch {
    return lost(input, err.message); // a cause the codec cannot send (an SDK's response object, say)
  }
  return { inputId: input.inputId, attempt: input.attempt, status: "FAILURE", error, userError: false };
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
