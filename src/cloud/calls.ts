/**
 * Durable calls over an object store and a queue, for every cloud: `spawn` queues the call's
 * envelope and writes its record (acknowledged once both are stored; no record where the
 * platform reads a pending call back from its queued message); `state` reads the result,
 * polling with growing intervals; a generator's values are listed page by page, each poll
 * asking only for keys after the last one read; `cancel` settles the call TERMINATED if nothing
 * settled it first, then leaves a marker that a running input looks for, and removes a message
 * still queued where the platform can.
 */
import QuickLRU from "quick-lru";
import { type InputInfo, applyGraphEvents, callGraph } from "../core/call-graph.js";
import { NotFoundError } from "../core/errors.js";
import type { CallState, CallStore, FunctionSpec, Input } from "../core/provider.js";
import { rideThrough } from "../core/transport.js";
import type { Send } from "./batching.js";
import { listedCallId } from "./call-ids.js";
import { type Keys, keysOf, sendKeys } from "./keys.js";
import { argsOf, offloadArgs } from "./offload.js";
import type { ObjectStore, Queue } from "./primitives.js";
import {
  type CallRecordJson,
  type Envelope,
  type StoreRef,
  type StoredResult,
  checkEnvelope,
  fromWire,
  parseStored,
  recordOf,
  toEnvelope,
  toWire,
} from "./wire.js";

/** An app's object store, with the reference that runtimes receive in envelopes. */
export interface AppStore {
  store: ObjectStore;
  ref: StoreRef;
}

export interface CloudCallsOptions {
  /** The store of an app. */
  storeOf(fn: { app: string; environment: string }): AppStore;
  /** The stores of every app this provider can see, where a call made by another process is looked for. */
  appStores(): Promise<AppStore[]>;
  /** A function's queue, and the name its runtime knows it by. */
  queueOf(fn: FunctionSpec): Promise<{ queue: Queue; name: string }>;
  send: Send;
  retentionMs: number;
  /**
   * Removes a message still queued, by the queue's name and the message's `dedupKey` (Cloud Tasks' DeleteTask),
   * or by the receipt its send returned (Storage Queues' DeleteMessage), where the platform can.
   */
  unqueue?(queue: string, dedupKey: string, receipt?: string): Promise<void>;
  /**
   * A message still queued, by its `dedupKey`, in any queue of the platform's (Cloud Tasks'
   * GetTask); undefined: none holds it. Where given, spawns write no record: a pending call's
   * record is its first attempt's message.
   */
  queued?(dedupKey: string): Promise<string | undefined>;
}

const POLL_MIN_MS = 50;
/** A call that runs 30 s costs ~25 reads of its result: the interval grows to this and stays. */
const POLL_MAX_MS = 1500;
/** How many calls a process remembers facts about (store, record, poll interval, chunk cursor). */
export const REMEMBERED_CALLS = 10_000;
/** Chunk reads in flight at once. */
const CHUNK_READS = 16;

/** A cloud's durable calls, and what its dashboard reads of them. */
export interface CloudCallStore extends CallStore {
  /** A call as stored: its record (with its arguments, where its spawn kept them) and its result, if any. */
  stored(callId: string): Promise<{ record: CallRecordJson; result: StoredResult | undefined }>;
  /** The arguments a spawned call was made with, while stored; undefined where its record kept none. */
  argsOf(callId: string): Promise<Uint8Array | undefined>;
}

export function cloudCalls(o: CloudCallsOptions): CloudCallStore {
  const where = new QuickLRU<string, AppStore>({ maxSize: REMEMBERED_CALLS });
  const known = new QuickLRU<string, CallRecordJson>({ maxSize: REMEMBERED_CALLS });
  const intervals = new QuickLRU<string, number>({ maxSize: REMEMBERED_CALLS });
  /** Per generator call: how many values were handed out, and the key of the last. */
  const cursors = new QuickLRU<string, { from: number; after: string }>({ maxSize: REMEMBERED_CALLS });

  /** The first attempt's message of a call still queued, where the platform reads messages back. */
  const queuedEnvelope = async (callId: string): Promise<Envelope | undefined> => {
    const body = await o.queued?.(sendKeys.attempt(callId, 1));
    if (body === undefined) return undefined;
    const e = checkEnvelope(JSON.parse(body), `the queued message of call ${callId}`);
    return e.callId === callId ? e : undefined;
  };

  /** The app store holding a result or record of a call made by another process. */
  const holding = async (callId: string): Promise<AppStore | undefined> => {
    for (const at of await o.appStores()) {
      const keys = keysOf(at.ref.prefix);
      const held = await Promise.all([at.store.has(keys.result(callId)), at.store.has(keys.call(callId))]);
      if (held.includes(true)) return at;
    }
    return undefined;
  };

  const storeFor = async (callId: string): Promise<AppStore & { keys: Keys }> => {
    let found = where.get(callId);
    if (found === undefined) {
      found = await holding(callId);
      const e = found === undefined ? await queuedEnvelope(callId) : undefined;
      if (e !== undefined) {
        found = o.storeOf({ app: e.app, environment: e.env });
        known.set(callId, recordOf(e));
      }
      if (found === undefined) throw new NotFoundError(`no call ${callId} in the apps this provider can see`);
      where.set(callId, found);
    }
    return { ...found, keys: keysOf(found.ref.prefix) };
  };

  /** A pending call's record: remembered, stored, or its queued message. */
  const recordFor = async (callId: string, store: ObjectStore, keys: Keys): Promise<CallRecordJson> => {
    let record = known.get(callId) ?? parseStored<CallRecordJson>(await store.get(keys.call(callId)));
    if (record === undefined) {
      const e = await queuedEnvelope(callId);
      record = e === undefined ? undefined : recordOf(e);
    }
    if (record === undefined) throw new NotFoundError(`no call ${callId} in its app's store`);
    const { args: _args, argsAt: _argsAt, ...lean } = record;
    known.set(callId, lean);
    return lean;
  };

  const stateNow = async (callId: string): Promise<CallState> => {
    const { store, keys } = await storeFor(callId);
    const result = parseStored<StoredResult>(await store.get(keys.result(callId)));
    if (result !== undefined) {
      known.delete(callId);
      if (result.expiresAt <= Date.now()) return { state: "expired", fn: result.fn, isGenerator: result.isGenerator };
      return { state: "done", fn: result.fn, isGenerator: result.isGenerator, outcome: fromWire(result.outcome) };
    }
    const record = await recordFor(callId, store, keys);
    return { state: "pending", fn: record.fn, isGenerator: record.isGenerator };
  };

  /** Polls until the call changes or `waitMs` passes; a long wait asks often at first, then rarely. */
  const poll = async <T>(callId: string, waitMs: number, read: () => Promise<T>, changed: (t: T) => boolean): Promise<T> => {
    const deadline = performance.now() + waitMs;
    for (;;) {
      const now = await read();
      if (changed(now)) {
        intervals.delete(callId);
        return now;
      }
      if (performance.now() >= deadline) return now;
      const interval = intervals.get(callId) ?? POLL_MIN_MS;
      await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - performance.now()))));
      intervals.set(callId, Math.min(POLL_MAX_MS, interval * 1.5));
    }
  };

  /** Values from `from` on: only keys after the last one read are listed, and only a gapless run is handed out. */
  const newChunks = async (callId: string, from: number): Promise<Uint8Array[]> => {
    const { store, keys } = await storeFor(callId);
    const cursor = cursors.get(callId);
    const resume = cursor?.from === from ? cursor.after : from > 0 ? keys.chunk(callId, from - 1) : undefined;
    const names: string[] = [];
    for await (const key of store.list(keys.chunks(callId), resume === undefined ? {} : { after: resume })) {
      // Values are written side by side: one listed before an earlier one exists waits for the next poll.
      if (key !== keys.chunk(callId, from + names.length)) break;
      names.push(key);
    }
    const chunks: Uint8Array[] = new Array(names.length);
    for (let i = 0; i < names.length; i += CHUNK_READS) {
      await Promise.all(
        names.slice(i, i + CHUNK_READS).map(async (key, j) => {
          const bytes = await store.get(key);
          if (bytes === undefined) throw new NotFoundError(`value ${key} of call ${callId} is gone (past its retention)`);
          chunks[i + j] = bytes;
        }),
      );
    }
    if (names.length > 0) cursors.set(callId, { from: from + names.length, after: names[names.length - 1] as string });
    return chunks;
  };

  /** A call as stored: its record (with its arguments, where its spawn kept them) and its result, if any. */
  const stored = async (callId: string) => {
    const { store, keys } = await storeFor(callId);
    const [kept, result] = await Promise.all([
      store.get(keys.call(callId)).then((b) => parseStored<CallRecordJson>(b)),
      store.get(keys.result(callId)).then((b) => parseStored<StoredResult>(b)),
    ]);
    const queued = (kept ?? result?.call) === undefined ? await queuedEnvelope(callId) : undefined;
    const record = kept ?? result?.call ?? (queued && { ...recordOf(queued), args: queued.args, argsAt: queued.argsAt });
    if (record === undefined) throw new NotFoundError(`no call ${callId} in its app's store`);
    return { record, result };
  };

  return {
    // Where spawns write a record, its key names the function and the time: a listing finds a function's newest.
    ...(o.queued === undefined ? { newCallId: (fn: FunctionSpec) => listedCallId(fn) } : {}),
    stored,
    async argsOf(callId) {
      const { record } = await stored(callId);
      if (record.args === undefined) return undefined;
      const { store } = await storeFor(callId);
      return argsOf(store, { args: record.args, argsAt: record.argsAt });
    },
    async spawn(fn: FunctionSpec, input: Input) {
      const app = o.storeOf(fn);
      const keys = keysOf(app.ref.prefix);
      const { queue, name } = await o.queueOf(fn);
      const createdAt = Date.now();
      const spawn = { queue: name, retentionMs: o.retentionMs, module: fn.module, isGenerator: fn.isGenerator, createdAt };
      const envelope = await offloadArgs(app.store, { ...toEnvelope(fn, input, app.ref), spawn }, queue.maxMessageBytes);
      const record: CallRecordJson = {
        fn: fn.name,
        module: fn.module,
        isGenerator: fn.isGenerator,
        inputId: input.inputId,
        parent: input.parentInputId,
        createdAt,
        queue: name,
        app: fn.app,
        env: fn.environment,
      };
      where.set(input.callId, app);
      known.set(input.callId, record);
      const dedupKey = sendKeys.attempt(input.callId, input.attempt);
      const sent = o.send(queue, { body: JSON.stringify(envelope), dedupKey });
      // Stored with the arguments (for "Run again"), remembered without them: a process remembers many calls.
      const putRecord = (r: CallRecordJson) =>
        app.store.put(keys.call(input.callId), JSON.stringify({ ...r, args: envelope.args, argsAt: envelope.argsAt }));
      // Both before the spawn resolves: the record (what get reads) and the message (the work). A record
      // that names its message by the send's receipt waits for the send; a queue read back by key needs none.
      if (o.queued !== undefined) await sent;
      else if (queue.receiptOf === undefined) await Promise.all([putRecord(record), sent]);
      else {
        await sent;
        const named = { ...record, receipt: queue.receiptOf(dedupKey) };
        known.set(input.callId, named);
        // Ridden through here: the spawn tried again would send its message again, and such a queue keeps both.
        await rideThrough(() => putRecord(named));
      }
    },
    state: (callId, waitMs) =>
      poll(
        callId,
        waitMs,
        () => stateNow(callId),
        (s) => s.state !== "pending",
      ),
    chunks: (callId, from, waitMs) =>
      poll(
        callId,
        waitMs,
        // The state first: once it says done, every value was written before the listing that follows.
        async () => {
          const state = await stateNow(callId);
          return { ...state, chunks: await newChunks(callId, from) };
        },
        (s) => s.chunks.length > 0 || s.state !== "pending",
      ),
    async cancel(callId) {
      const { store, keys } = await storeFor(callId);
      const now = await stateNow(callId);
      if (now.state !== "pending") return;
      const record = await recordFor(callId, store, keys);
      const stored: StoredResult = {
        outcome: toWire({ inputId: record.inputId, attempt: 0, status: "TERMINATED" }),
        fn: now.fn,
        isGenerator: now.isGenerator,
        finishedAt: Date.now(),
        expiresAt: Date.now() + o.retentionMs,
        call: record,
      };
      // Only if nothing settled it meanwhile: a finished call stays finished. Before the marker: an
      // input that sees the marker and ends (even with a value) then finds its result taken.
      await store.put(keys.result(callId), JSON.stringify(stored), { ifAbsent: true });
      await store.put(keys.cancel(callId), "");
      // Still queued, its first attempt never runs: its first delivery would not look for the marker.
      const { unqueue } = o;
      if (record.queue !== undefined && unqueue !== undefined)
        await rideThrough(() => unqueue(record.queue as string, sendKeys.attempt(callId, 1), record.receipt));
    },
    async callGraph(callId): Promise<InputInfo[]> {
      const { store, keys } = await storeFor(callId);
      // The call's own record and result first: the tree has its root even before its runtime wrote any.
      const result = parseStored<StoredResult>(await store.get(keys.result(callId)));
      const record = result?.call ?? (await recordFor(callId, store, keys));
      applyGraphEvents([
        { call: callId, parent: record.parent, fn: record.fn, module: record.module },
        { call: callId, input: record.inputId, status: result?.outcome.status ?? "PENDING", task: result?.outcome.taskId ?? "" },
      ]);
      // Then those of the calls spawned from inside it, each kept with its own call.
      const seen = new Set<string>();
      const queue = [callId];
      while (queue.length > 0 && seen.size < 1000) {
        const id = queue.shift() as string;
        if (seen.has(id)) continue;
        seen.add(id);
        const events = (id === callId ? result : parseStored<StoredResult>(await store.get(keys.result(id))))?.graph ?? [];
        applyGraphEvents(events);
        for (const e of events) if ("fn" in e && !seen.has(e.call)) queue.push(e.call);
      }
      return callGraph(callId);
    },
  };
}
