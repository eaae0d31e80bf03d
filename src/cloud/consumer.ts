/**
 * The queue-consumer side of every cloud runtime: one delivered message of a spawned call (or
 * of a map sent through the queue), run at least once and settled once. A call's result is
 * written only where none exists, so the first outcome (or a cancel) stands. A redelivery is
 * idempotent by call id and attempt (a finished or retried attempt does nothing), checks the
 * cancel marker, and claims the attempt (attempt-lease.ts). A platform's first delivery of a
 * first attempt, which it will not deliver again while it runs (`first`), skips those reads: it
 * costs one write, its outcome. Retries are queued by the core's own retry decision as delayed
 * messages, and a delay longer than the queue can hold is chained. A passing refusal of the store
 * or queue (a `TransportError`, src/core/transport.ts) is ridden through, so that an input already
 * run is not run again; any other refusal throws, and the platform delivers the message again.
 */
import { type GraphEvent, recordCall, recordInput } from "../core/call-graph.js";
import { InvalidError } from "../core/errors.js";
import type { FunctionSpec, Outcome } from "../core/provider.js";
import { retryDelay } from "../core/retries.js";
import { claimAttempt } from "./attempt-lease.js";
import { cancelledBy, chunkWriter, sendOne, steadyStore } from "./delivery-io.js";
import { type Keys, keysIn, sendKeys } from "./keys.js";
import { argsOf } from "./offload.js";
import type { ObjectStore, Queue } from "./primitives.js";
import { captureGraph, functionOf, runInput } from "./run-input.js";
import { type Envelope, type SpawnTarget, type StoredResult, recordOf, toWire } from "./wire.js";

/** What a runtime adapter gives the consumer: its platform's store and queue by the names an envelope carries. */
export interface ConsumerPlatform {
  store(name: string): ObjectStore;
  queue(name: string): Queue;
}

export interface DeliveryFacts {
  /**
   * The platform's first delivery of this message, and none follows while it runs, for inputs
   * whose timeout is at most `heldForMs` (Cloud Tasks holds a dispatch until its deadline). Of a
   * first attempt, such a delivery cannot meet a result, a retry or a start mark, and a cancel
   * removed its message (`unqueue`): it runs at once. The platform's rare duplicate of it may run
   * the input twice; the call still has one result. @default false
   */
  first?: boolean;
  /** How long the platform holds a delivery before it delivers the message again. @default no limit */
  heldForMs?: number;
  /**
   * A redelivery that the platform makes only once the earlier delivery ended (Azure's host keeps a
   * running message invisible until its run ends, and shows it again when that run failed or its instance
   * exited): the earlier runs are over, so a lost one settles now instead of after its lease. @default false
   */
  earlierEnded?: boolean;
}

/** Runs one delivered message; resolves once its outcome (or its retry) is stored. */
export async function consume(e: Envelope, platform: ConsumerPlatform, taskId: string, facts: DeliveryFacts = {}): Promise<void> {
  if (e.spawn === undefined || e.store === undefined)
    throw new InvalidError("faasade: a queued envelope without its spawn target or store");
  const at: Delivery = {
    e,
    spawn: e.spawn,
    store: steadyStore(platform.store(e.store.name)),
    queue: () => platform.queue((e.spawn as SpawnTarget).queue),
    keys: keysIn(e.store.prefix),
    taskId,
    facts,
  };
  at.ready = at.store.ready?.().catch(() => {}); // a client that cannot load fails the requests that need it
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
  facts: DeliveryFacts;
  /** The store's client made ready, begun as the delivery starts. */
  ready?: Promise<void> | undefined;
}

/** A retry whose delay the queue cannot hold in one message: sent on, for the rest of the delay. */
async function chainDelay({ e, spawn, queue }: Delivery): Promise<void> {
  const q = queue();
  const left = (spawn.notBefore ?? 0) - Date.now();
  const dedupKey = sendKeys.hop(e.callId, e.inputId, e.attempt, Date.now());
  await sendOne(q, { body: JSON.stringify(e), delayMs: Math.min(left, q.maxDelayMs), dedupKey });
}

/** An attempt whose first delivery runs it without reads or a start mark (`DeliveryFacts.first`). */
const runsUnmarked = ({ e, facts }: Delivery, spec: FunctionSpec | undefined) =>
  e.attempt === 1 && (spec?.options.timeoutMs ?? 0) <= (facts.heldForMs ?? Number.POSITIVE_INFINITY);

/** A first delivery of a first attempt that nothing can have started, retried or settled. */
const isFresh = (at: Delivery, spec: FunctionSpec | undefined) => at.facts.first === true && runsUnmarked(at, spec);

/** What the platform tells of the deliveries before this one, for the attempt's lease. */
const earlierOf = (at: Delivery, spec: FunctionSpec | undefined) =>
  at.facts.earlierEnded === true ? { ended: true, ranUnmarked: runsUnmarked(at, spec) } : {};

async function specOf(e: Envelope): Promise<FunctionSpec | undefined> {
  const handle = await functionOf(e);
  return typeof handle === "string" ? undefined : handle.definition().spec;
}

async function runSpawned(at: Delivery): Promise<void> {
  const { e, store, keys, taskId } = at;
  const spec = await specOf(e);
  const fresh = isFresh(at, spec);
  if (!fresh) {
    if (await store.has(keys.result(e.callId))) return; // a redelivery of a finished call
    if (await store.has(keys.retried(e.callId, e.attempt))) return; // this attempt ended and was retried
    if (await store.has(keys.cancel(e.callId))) return storeResult(at, spec, terminated(at), []);
    const lost = await claimAttempt(store, keys.started(e.callId, e.inputId, e.attempt), e, spec, taskId, earlierOf(at, spec));
    if (lost !== undefined) return settleSpawned(at, spec, lost, []);
  }
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
    cancelledBy(store, keys.cancel(e.callId), "the call was cancelled"),
  );
  await chunks.settled();
  // A cancel's result was written before its marker, and a result is written only if absent;
  // a redelivery looks anyway, for stores whose emulators ignore the condition (fauxqs' S3).
  const cancelled = !fresh && (await store.has(keys.cancel(e.callId)));
  const final: Outcome = cancelled ? { ...outcome, status: "TERMINATED", value: undefined, error: undefined } : outcome;
  await settleSpawned(at, spec, final, [...before, ...graph]);
}

const terminated = ({ e, taskId }: Delivery): Outcome => ({
  inputId: e.inputId,
  attempt: e.attempt,
  status: "TERMINATED",
  taskId,
});

/**
 * The end of an attempt: the next one queued if the policy says so (unless the call was
 * cancelled meanwhile), else the call's result, which a cancel's (written first) keeps out.
 */
async function settleSpawned(at: Delivery, spec: FunctionSpec | undefined, final: Outcome, graph: GraphEvent[]): Promise<void> {
  const { e, store, keys, taskId } = at;
  const delay = spec === undefined ? undefined : retryDelay(spec.options.retries, final);
  if (spec !== undefined && delay !== undefined && !(await store.has(keys.cancel(e.callId)))) return queueRetry(at, spec, delay);
  const after = captureGraph(() => spec !== undefined && recordInput(e.callId, e.inputId, final.status, final.taskId ?? taskId));
  await storeResult(at, spec, final, [...graph, ...after]);
}

/**
 * The next attempt, after `delay`: marked first, so that a redelivery of this attempt knows it
 * is stale, and recorded, so that a process that did not make the call finds it pending once
 * the first attempt's message is gone.
 */
async function queueRetry(at: Delivery, spec: FunctionSpec, delay: number): Promise<void> {
  const { e, store, keys, queue } = at;
  const q = queue();
  const next: Envelope = {
    ...e,
    attempt: e.attempt + 1,
    spawn: { ...(e.spawn as SpawnTarget), notBefore: delay > q.maxDelayMs ? Date.now() + delay : undefined },
  };
  await store.put(keys.retried(e.callId, e.attempt), "");
  await store.put(keys.call(e.callId), JSON.stringify(recordWith(at, spec)));
  const dedupKey = sendKeys.attempt(e.callId, next.attempt);
  await sendOne(q, { body: JSON.stringify(next), delayMs: Math.min(delay, q.maxDelayMs), dedupKey });
}

/** The call's record as stored: with its arguments, for "Run again" (the only copy where spawns write no record). */
const recordWith = ({ e }: Delivery, spec: FunctionSpec | undefined) => ({
  ...recordOf(e),
  args: e.args,
  argsAt: e.argsAt,
  ...(spec === undefined ? {} : { module: spec.module, isGenerator: spec.isGenerator }),
});

/** The call's result with its record and graph, unless one is already stored (a cancel's, a duplicate's). */
async function storeResult(at: Delivery, spec: FunctionSpec | undefined, outcome: Outcome, graph: GraphEvent[]): Promise<void> {
  const { e, spawn, store, keys } = at;
  await at.ready; // kept from the moment it can be read, not from before a client first loaded
  const now = Date.now();
  const call = recordWith(at, spec);
  const stored: StoredResult = {
    outcome: toWire(outcome),
    fn: e.fn,
    isGenerator: call.isGenerator,
    finishedAt: now,
    expiresAt: now + spawn.retentionMs,
    call,
    ...(graph.length > 0 ? { graph } : {}),
  };
  await store.put(keys.result(e.callId), JSON.stringify(stored), { ifAbsent: true });
}

/**
 * One input of a map sent through the queue: its outcome goes to `map-results/`, once per
 * attempt; failures are not retried here (the caller's map retries its inputs, as for invokes).
 * The cancel marker (the map was left) is looked for even on a first delivery: a map left early
 * may have thousands of inputs queued, which then end without running.
 */
async function runMapInput(at: Delivery): Promise<void> {
  const { e, store, keys, taskId } = at;
  const resultKey = keys.mapResult(e.callId, e.inputId, e.attempt);
  const spec = await specOf(e);
  const fresh = isFresh(at, spec);
  if (!fresh && (await store.has(resultKey))) return; // a redelivery
  if (await store.has(keys.cancel(e.callId))) return; // the map was left: nobody reads this input
  const started = keys.started(e.callId, e.inputId, e.attempt);
  const lost = fresh ? undefined : await claimAttempt(store, started, e, spec, taskId, earlierOf(at, spec));
  const ran =
    lost === undefined
      ? await runInput(
          e,
          taskId,
          () => argsOf(store, e),
          () => {},
          cancelledBy(store, keys.cancel(e.callId), "the map was left"),
        )
      : { outcome: lost, graph: [] };
  const graph = ran.graph.length > 0 ? { graph: ran.graph } : {};
  await store.put(resultKey, JSON.stringify({ outcome: toWire(ran.outcome), ...graph }), { ifAbsent: true });
}
