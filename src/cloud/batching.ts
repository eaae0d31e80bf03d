/**
 * Queue sends made in the same tick share requests, within the platform's limits on messages
 * and on total bytes per request: 10 000 spawns on SQS cost about 1 000 requests instead of
 * 10 000, and a batch of large messages is split before the platform refuses it.
 */
import type { Queue, QueueMessage } from "./primitives.js";

interface Waiting {
  message: QueueMessage;
  bytes: number;
  done(err?: Error): void;
}

export type Send = (queue: Queue, message: QueueMessage) => Promise<void>;

/** A sender that coalesces per queue and per tick. */
export function batchedSender(): Send {
  const pending = new Map<Queue, Waiting[]>();
  const flush = async (queue: Queue) => {
    const waiting = pending.get(queue) ?? [];
    pending.delete(queue);
    for (const group of groups(waiting, queue)) {
      try {
        const answers = await queue.sendBatch(group.map((w) => w.message));
        for (const [i, w] of group.entries()) w.done(answers[i]);
      } catch (err) {
        for (const w of group) w.done(err as Error);
      }
    }
  };
  return (queue, message) =>
    new Promise<void>((resolve, reject) => {
      let waiting = pending.get(queue);
      if (waiting === undefined) {
        waiting = [];
        pending.set(queue, waiting);
        setImmediate(() => void flush(queue));
      }
      waiting.push({
        message,
        bytes: Buffer.byteLength(message.body),
        done: (err) => (err === undefined ? resolve() : reject(err)),
      });
    });
}

/**
 * `Queue.sendBatch` where the platform has no batch send (Storage Queues, Cloud Tasks): one request
 * per message, all at once; each entry `undefined` when queued, else the error that refused it.
 */
export function sendEach(send: (message: QueueMessage) => Promise<unknown>): Queue["sendBatch"] {
  const refused = (err: unknown) => err as Error;
  return (messages) => Promise.all(messages.map((m) => send(m).then(() => undefined, refused)));
}

/** Consecutive groups within `maxBatch` messages and `maxBatchBytes` bytes (a message alone may be as large as allowed). */
export function groups<T extends { bytes: number }>(
  items: readonly T[],
  limits: Pick<Queue, "maxBatch" | "maxBatchBytes">,
): T[][] {
  const out: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (group.length > 0 && (group.length >= limits.maxBatch || bytes + item.bytes > limits.maxBatchBytes)) {
      out.push(group);
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += item.bytes;
  }
  if (group.length > 0) out.push(group);
  return out;
}
