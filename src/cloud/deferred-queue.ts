/** A queue whose limits are known at once but whose sender needs a lookup first (the target's URL, the queue's URL). */
import { untilFulfilled } from "./once.js";
import type { Queue } from "./primitives.js";

export type QueueLimits = Pick<Queue, "maxBatch" | "maxBatchBytes" | "maxMessageBytes" | "maxDelayMs">;

/** `make` runs on the first send; a failed one is tried again by the next send. */
export function deferredQueue(limits: QueueLimits, make: () => Promise<Queue>): Queue {
  const queue = untilFulfilled(make);
  const { maxBatch, maxBatchBytes, maxMessageBytes, maxDelayMs } = limits;
  return {
    maxBatch,
    maxBatchBytes,
    maxMessageBytes,
    maxDelayMs,
    sendBatch: async (messages) => (await queue()).sendBatch(messages),
  };
}
