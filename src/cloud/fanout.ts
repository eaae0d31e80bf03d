/**
 * Maps through the queue ("fan-out"): the inputs of a large map go to the function's queue in
 * batched sends instead of one invoke each, and their outcomes come back through the object
 * store, found by listing the map's prefix (one page lists many finished inputs). The process
 * holds no connection per input, and the platform scales on the queue. Which maps take this
 * path is the provider's choice (e.g. docs/aws.md, "Maps"). A round of polling that the store
 * refuses for a passing reason (a `TransportError`: an S3 5xx burst, a restart) is tried again
 * with the core's backoff; only a store that keeps refusing past its window fails the map's
 * waiting inputs.
 */
import { type GraphEvent, applyGraphEvents } from "../core/call-graph.js";
import type { Input, OutcomeSink } from "../core/provider.js";
import { TransportBackoff, isTransportError, rideThrough } from "../core/transport.js";
import type { Send } from "./batching.js";
import { keysIn, sendKeys } from "./keys.js";
import { eachLimit } from "./parallel.js";
import type { Queue } from "./primitives.js";
import type { AppStore } from "./calls.js";
import { type Envelope, type WireOutcome, fromWire, lost, parseStored, unreachable } from "./wire.js";

/** Polling the map's results: soon after sending, then less often while nothing arrives. */
const POLL_MIN_MS = 50;
const POLL_MAX_MS = 500;

interface Waiting {
  input: Input;
  sink: OutcomeSink;
  /** Where it was sent, to remove it while it is still queued when the map is left. */
  queue: Queue;
  queueName: string;
}

interface MapState {
  app: AppStore;
  waiting: Map<string, Waiting>;
  interval: number;
  /** Set while the next round waits; `polling` while one runs: never two rounds at once. */
  timer: NodeJS.Timeout | undefined;
  polling: boolean;
  /** The streak of rounds the store refused (reset by a round that read it). */
  refused: TransportBackoff;
}

/** Removes a message still queued by its receipt (`CloudPlatform.unqueue`). */
export type Unqueue = (queue: string, dedupKey: string, receipt?: string) => Promise<void>;

/** Deletes of a left map's queued inputs in flight at once. */
const UNQUEUE_PARALLEL = 16;

export interface FanOut {
  submit(
    envelopes: Envelope[],
    inputs: readonly Input[],
    sink: OutcomeSink,
    app: AppStore,
    queue: { queue: Queue; name: string },
  ): void;
  /**
   * Inputs no longer wanted: their outcomes are dropped, and queued ones never run (the map's cancel
   * marker); where the queue names its messages by receipt, they are also deleted, so that the queue
   * does not deliver them all before what is sent next.
   */
  abort(inputIds: readonly string[]): void;
  close(): void;
}

export function fanOut(send: Send, unqueue?: Unqueue): FanOut {
  const maps = new Map<string, MapState>();
  const byInput = new Map<string, string>();

  const failAll = (m: MapState, message: string) => {
    for (const w of m.waiting.values()) {
      byInput.delete(w.input.inputId);
      w.sink.outcome(w.input, lost(w.input, message));
    }
    m.waiting.clear();
  };

  const round = async (callId: string, m: MapState): Promise<number> => {
    const keys = keysIn(m.app.ref.prefix);
    const prefix = keys.mapResults(callId);
    const done: string[] = [];
    let arrived = 0;
    for await (const key of m.app.store.list(prefix)) {
      done.push(key);
      const [inputId, attempt] = key.slice(prefix.length).split(".");
      const w = m.waiting.get(inputId ?? "");
      if (w === undefined || String(w.input.attempt) !== attempt) continue; // aborted, or an older attempt
      const stored = parseStored<{ outcome: WireOutcome; graph?: GraphEvent[] }>(await m.app.store.get(key));
      if (stored === undefined) continue;
      const { outcome, graph } = stored;
      // The calls the input made, as an invoke's answer brings them: this process's call graph shows them.
      if (graph !== undefined) applyGraphEvents(graph);
      m.waiting.delete(w.input.inputId);
      byInput.delete(w.input.inputId);
      arrived++;
      w.sink.outcome(w.input, fromWire(outcome));
    }
    // Read once, then gone: the prefix only ever lists what has not been delivered.
    if (done.length > 0) await m.app.store.delete(done);
    return arrived;
  };

  const poll = async (callId: string) => {
    const m = maps.get(callId);
    if (m === undefined) return;
    m.timer = undefined;
    m.polling = true;
    let arrived = 0;
    let wait = 0;
    try {
      arrived = await round(callId, m);
      m.refused.reset();
    } catch (err) {
      const delay = isTransportError(err) ? m.refused.next(err) : undefined;
      if (typeof delay === "number") wait = delay;
      else failAll(m, `reading the map's results failed: ${(delay ?? (err as Error)).message}`);
    }
    m.polling = false;
    if (m.waiting.size === 0) {
      maps.delete(callId);
      return;
    }
    m.interval = arrived > 0 ? POLL_MIN_MS : Math.min(POLL_MAX_MS, m.interval * 1.5);
    m.timer = setTimeout(() => void poll(callId), Math.max(wait, m.interval));
  };

  return {
    submit(envelopes, inputs, sink, app, { queue, name: queueName }) {
      const callId = inputs[0]?.callId;
      if (callId === undefined) return;
      let m = maps.get(callId);
      if (m === undefined) {
        m = {
          app,
          waiting: new Map(),
          interval: POLL_MIN_MS,
          timer: undefined,
          polling: false,
          refused: new TransportBackoff(),
        };
        maps.set(callId, m);
      }
      const map = m;
      inputs.forEach((input, i) => {
        map.waiting.set(input.inputId, { input, sink, queue, queueName });
        byInput.set(input.inputId, callId);
        const dedupKey = sendKeys.mapInput(callId, input.inputId, input.attempt);
        rideThrough(() => send(queue, { body: JSON.stringify(envelopes[i]), dedupKey })).catch((err: unknown) => {
          if (!map.waiting.delete(input.inputId)) return;
          byInput.delete(input.inputId);
          sink.outcome(input, unreachable(input, err));
        });
      });
      if (map.timer === undefined && !map.polling) map.timer = setTimeout(() => void poll(callId), POLL_MIN_MS);
    },
    abort(inputIds) {
      const left = new Set<string>();
      const queued: { w: Waiting; dedupKey: string; receipt: string }[] = [];
      for (const id of inputIds) {
        const callId = byInput.get(id);
        if (callId === undefined) continue;
        byInput.delete(id);
        const waiting = maps.get(callId)?.waiting;
        const w = waiting?.get(id);
        waiting?.delete(id);
        left.add(callId);
        const dedupKey = w && sendKeys.mapInput(callId, w.input.inputId, w.input.attempt);
        const receipt = dedupKey && w?.queue.receiptOf?.(dedupKey);
        if (w && dedupKey && receipt) queued.push({ w, dedupKey, receipt });
      }
      // Best effort: a message received meanwhile still finds the marker.
      if (unqueue !== undefined && queued.length > 0)
        void eachLimit(queued, UNQUEUE_PARALLEL, (q) => unqueue(q.w.queueName, q.dedupKey, q.receipt).catch(() => {}));
      for (const callId of left) {
        const m = maps.get(callId);
        if (m === undefined) continue;
        // Inputs still queued must not run: the consumer checks the map's marker first.
        void m.app.store.put(keysIn(m.app.ref.prefix).cancel(callId), "").catch(() => {});
        if (m.waiting.size === 0) {
          clearTimeout(m.timer);
          maps.delete(callId);
        }
      }
    },
    close() {
      for (const m of maps.values()) clearTimeout(m.timer);
      maps.clear();
      byInput.clear();
    },
  };
}
