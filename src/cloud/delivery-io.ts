/**
 * What a delivery of a queued input reads and writes besides its outcome: a generator's values
 * written as they come, the cancel marker watched while it runs, the store's passing refusals
 * ridden through, one message sent on.
 */
import type { InputContext } from "../core/context.js";
import { InputCancelledError } from "../core/errors.js";
import { rideThrough } from "../core/transport.js";
import type { Keys } from "./keys.js";
import type { ObjectStore, Queue } from "./primitives.js";

/** How often a queued input running here looks for its cancel marker. */
const CANCEL_POLL_MS = 1000;

/** Writes of a generator's values in flight at once. */
const CHUNK_WRITES = 16;

/**
 * A generator's values written as they come, at most `CHUNK_WRITES` at once and started in the
 * order they were yielded: a reader hands out only a gapless run, and a burst of thousands of
 * writes at once would only queue on the client's sockets. A failed write fails the delivery,
 * never the process.
 */
export function chunkWriter(store: ObjectStore, keys: Keys, callId: string) {
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
export const cancelledBy = (store: ObjectStore, cancelKey: string, reason: string) => (ctx: InputContext) => {
  let looking = false;
  const watch = setInterval(() => {
    if (looking) return;
    looking = true;
    store
      .has(cancelKey)
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
  const { modifiedAt, ready } = store;
  if (modifiedAt !== undefined) steady.modifiedAt = (key) => rideThrough(() => modifiedAt.call(store, key));
  if (ready !== undefined) steady.ready = () => rideThrough(() => ready.call(store));
  return steady;
}

/** One message sent, again while the queue's refusal (of the request, or of the message) passes. */
export async function sendOne(queue: Queue, message: { body: string; delayMs: number; dedupKey: string }): Promise<void> {
  await rideThrough(async () => {
    const [refused] = await queue.sendBatch([{ ...message, delayMs: Math.max(0, message.delayMs) }]);
    if (refused !== undefined) throw refused;
  });
}
