/**
 * The queue-consumer side of every cloud runtime: one delivered message of a spawned call (or
 * of a map sent through the queue), run at least once and settled once. Idempotent by call id
 * and attempt (a redelivery of a finished or retried attempt does nothing), cancellable by
 * marker, retried by the core's own retry decision as a delayed message, and a delay longer
 * than the queue can hold is chained. A passing refusal of the store or queue (throttling, a
 * burst of 5xx, a dropped connection: a `TransportError`, src/core/transport.ts) is ridden
 * through, so that an input already run is not run again; any other refusal throws, and the
 * platform delivers the message again: nothing is lost.
 */
import { type GraphEvent, recordCall, recordInput } from "../core/call-graph.js";
import type { InputContext } from "../core/context.js";
import { InputCancelledError, InvalidError } from "../core/errors.js";
import type { FunctionSpec, Outcome } from "../core/provider.js";
import { retryDelay } from "../core/retries.js";
import { rideThrough } from "../core/transport.js";
import { claimAttempt } from "./attempt-lease.js";
import { type Keys, keysIn, sendKeys } from "./keys.js";
import { argsOf } from "./offload.js";
import type { ObjectStore, Queue } from "./primitives.js";
import { captureGraph, functionOf, runInput } from "./run-input.js";
import { type Envelope, type SpawnTarget, type StoredResult, parseStored, toWire } from "./wire.js";

/** What a runtime adapter gives the consumer: its platform's store and queue by the names an envelope carries. */
export interface ConsumerPlatform {
  store(name: string): ObjectStore;
  queue(name: string): Queue;
}

/** How often a queued input running here looks for its cancel marker. */
const CANCEL_POLL_MS = 1000;

/** Runs one delivered message; resolves once its outcome (or its retry) is stored. */
export async function consume(e: Envelope, platform: ConsumerPlatform, taskId: string): Promise<void> {
  if (e.spawn === undefined || e.store === undefined)
    throw new InvalidError("faasade: a queued envelope without its spawn target or store");
  const at: Delivery = {
    e,
    spawn: e.spawn,
    store: steadyStore(platform.store(e.store.name)),
    queue: () => platform.queue((e.spawn as SpawnTarget).queue),
    keys: keysIn(e.store.prefix),
    taskId,
  };
  if (e.spawn.notBefore !== undefined && e.spawn.notBefore > Date.now()) return chainDelay(at);
  if (e.spawn.map === true) return runMapInput(at);
  return runSpawned(at);
}

interface Delivery {
  e: Envelope;
  spawn: SpawnTarget;
  store: ObjectStore;
  queue: () => Queue;
  keys: Keys;
  taskId: string;
}

/** A retry whose delay the queue cannot hold in one message: sent on, for the rest of the delay. */
async function chainDelay({ e, spawn, queue }: Delivery): Promise<void> {
  const q = queue();
  const left = (spawn.notBefore ?? 0) - Date.now();
  const dedupKey = sendKeys.hop(e.callId, e.inputId, e.attempt, Date.now());
  await sendOne(q, { body: JSON.stringify(e), delayMs: Math.min(left, q.maxDelayMs), dedupKey });
}

async function runSpawned(at: Delivery): Promise<void> {
  const { e, store, keys, taskId } = at;
  if (await store.has(keys.result(e.callId))) return; // a redelivery of a finished call
  if (await store.has(keys.retried(e.callId, e.attempt))) return; // this attempt ended and was retried
  const handle = await functionOf(e);
  const spec = typeof handle === "string" ? undefined : handle.definition().spec;
  if (await store.has(keys.cancel(e.callId))) {
    await storeResult(at, { inputId: e.inputId, attempt: e.attempt, status: "TERMINATED", taskId }, [], spec?.isGenerator);
    return;
  }
  const lost = await claimAttempt(store, keys.started(e.callId, e.inputId, e.attempt), e, spec, taskId);
  if (lost !== undefined) return settleSpawned(at, spec, lost, []);
  // The root's records come first, so that the tree can be rebuilt from them in order.
  const before = captureGraph(() => {
    if (spec === undefined) return;
    recordCall(e.callId, e.parent, spec);
    recordInput(e.callId, e.inputId, "PENDING");
  });
  const chunks = chunkWriter(store, keys, e.callId);
  const { outcome, graph } = await runInput(
    e,
    taskId,
    () => argsOf(store, e),
    chunks.write,
    cancelledBy(at, "the call was cancelled"),
  );
  await chunks.settled();
  const cancelled = await store.has(keys.cancel(e.callId));
  const final: Outcome = cancelled ? { ...outcome, status: "TERMINATED", value: undefined, error: undefined } : outcome;
  await settleSpawned(at, spec, final, [...before, ...graph]);
}

/** The end of an attempt: the next one queued if the policy says so, else the call's result. */
async function settleSpawned(at: Delivery, spec: FunctionSpec | undefined, final: Outcome, graph: GraphEvent[]): Promise<void> {
  const { e, taskId } = at;
  const delay = spec === undefined ? undefined : retryDelay(spec.options.retries, final);
  if (delay !== undefined) return queueRetry(at, delay);
  const after = captureGraph(() => spec !== undefined && recordInput(e.callId, e.inputId, final.status, final.taskId ?? taskId));
  await storeResult(at, final, [...graph, ...after], spec?.isGenerator);
}

/** The next attempt, after `delay`: marked first, so that a redelivery of this attempt knows it is stale. */
async function queueRetry({ e, store, keys, queue }: Delivery, delay: number): Promise<void> {
  const q = queue();
  const next: Envelope = {
    ...e,
    attempt: e.attempt + 1,
    spawn: { ...(e.spawn as SpawnTarget), notBefore: delay > q.maxDelayMs ? Date.now() + delay : undefined },
  };
  await store.put(keys.retried(e.callId, e.attempt), "");
  const dedupKey = sendKeys.attempt(e.callId, next.attempt);
  await sendOne(q, { body: JSON.stringify(next), delayMs: Math.min(delay, q.maxDelayMs), dedupKey });
}

async function storeResult(
  { e, spawn, store, keys }: Delivery,
  outcome: Outcome,
  graph: GraphEvent[],
  isGenerator = false,
): Promise<void> {
  if (graph.length > 0) {
    const all = [...(parseStored<GraphEvent[]>(await store.get(keys.graph(e.callId))) ?? []), ...graph];
    await store.put(keys.graph(e.callId), JSON.stringify(all));
  }
  const now = Date.now();
  const stored: StoredResult = {
    outcome: toWire(outcome),
    fn: e.fn,
    isGenerator,
    finishedAt: now,
    expiresAt: now + spawn.retentionMs,
  };
  await store.put(keys.result(e.callId), JSON.stringify(stored));
}

/**
 * One input of a map sent through the queue: its outcome goes to `map-results/`, once per
 * attempt; failures are not retried here (the caller's map retries its inputs, as for invokes).
 */
async function runMapInput(at: Delivery): Promise<void> {
  const { e, store, keys, taskId } = at;
  const resultKey = keys.mapResult(e.callId, e.inputId, e.attempt);
  if (await store.has(resultKey)) return; // a redelivery
  if (await store.has(keys.cancel(e.callId))) return; // the map was left: nobody reads this input
  const handle = await functionOf(e);
  const spec = typeof handle === "string" ? undefined : handle.definition().spec;
  const lost = await claimAttempt(store, keys.started(e.callId, e.inputId, e.attempt), e, spec, taskId);
  if (lost !== undefined) {
    await store.put(resultKey, JSON.stringify({ outcome: toWire(lost) }));
    return;
  }
  const { outcome } = await runInput(
    e,
    taskId,
    () => argsOf(store, e),
    () => {},
    cancelledBy(at, "the map was left"),
  );
  await store.put(resultKey, JSON.stringify({ outcome: toWire(outcome) }));
}

/** Writes of a generator's values in flight at once. */
const CHUNK_WRITES = 16;

/**
 * A generator's values written as they come, at most `CHUNK_WRITES` at once and started in the
 * order they were yielded: a reader hands out only a gapless run, and a burst of thousands of
 * writes at once would only queue on the client's sockets. A failed write fails the delivery,
 * never the process.
 */
function chunkWriter(store: ObjectStore, keys: Keys, callId: string) {
  let n = 0;
  let running = 0;
  const waiting: [string, Uint8Array][] = [];
  let failed: { error: unknown } | undefined;
  let idle: (() => void) | undefined;
  const start = (key: string, value: Uint8Array) => {
    running++;
    store
      .put(key, value)
      .catch((error: unknown) => (failed ??= { error }))
      .finally(() => {
        running--;
        const next = waiting.shift();
        if (next !== undefined) start(...next);
        else if (running === 0) idle?.();
      });
  };
  return {
    write: (value: Uint8Array) => {
      const key = keys.chunk(callId, n++);
      if (running < CHUNK_WRITES) start(key, value);
      else waiting.push([key, value]);
    },
    async settled() {
      if (running > 0) await new Promise<void>((resolve) => (idle = resolve));
      if (failed !== undefined) throw failed.error; // the message comes back; the call runs again
    },
  };
}

/** Aborts a queued input once its cancel marker exists: polled (one look at a time), since object stores tell nobody. */
const cancelledBy =
  ({ store, keys, e }: Delivery, reason: string) =>
  (ctx: InputContext) => {
    let looking = false;
    const watch = setInterval(() => {
      if (looking) return;
      looking = true;
      store
        .has(keys.cancel(e.callId))
        .then(
          (yes) => yes && ctx.abort(new InputCancelledError(reason)),
          () => {},
        )
        .finally(() => (looking = false));
    }, CANCEL_POLL_MS);
    return () => clearInterval(watch);
  };

/** The consumer's view of a store: each request rides through passing refusals (results, chunks, markers, reads). */
export function steadyStore(store: ObjectStore): ObjectStore {
  const steady: ObjectStore = {
    get: (key) => rideThrough(() => store.get(key)),
    has: (key) => rideThrough(() => store.has(key)),
    put: (key, body, options) => rideThrough(() => store.put(key, body, options)),
    list: (prefix, options) => store.list(prefix, options),
    delete: (keys) => rideThrough(() => store.delete(keys)),
  };
  const { modifiedAt } = store;
  if (modifiedAt !== undefined) steady.modifiedAt = (key) => rideThrough(() => modifiedAt.call(store, key));
  return steady;
}

/** One message sent, again while the queue's refusal (of the request, or of the message) passes. */
async function sendOne(queue: Queue, message: { body: string; delayMs: number; dedupKey: string }): Promise<void> {
  await rideThrough(async () => {
    const [refused] = await queue.sendBatch([{ ...message, delayMs: Math.max(0, message.delayMs) }]);
    if (refused !== undefined) throw refused;
  });
}
