/**
 * A function's Cloud Tasks queue (its id is the function's id), idempotently: created when
 * missing; otherwise only the limits that differ are sent, under an update mask. Cloud Tasks
 * delivers each task once (`max_attempts` 1): faasade's own retries queue new tasks, with the
 * retry policy's delay, so Google's retries would only run an input twice.
 */
import { gcpCall, isNotFound } from "../clients.js";
import { type AppRef, queuePath } from "../names.js";
import type { GcpDeployContext } from "./context.js";
import type { GcpSettings } from "./function-options.js";

/** Cloud Tasks' largest `max_concurrent_dispatches`. */
const MAX_CONCURRENT = 5000;

export interface QueueLimits {
  /** What the function can run at once: its instances × the inputs one instance takes. */
  maxConcurrentDispatches: number;
  maxAttempts: 1;
}

/**
 * `maxContainers × maxInputs`, or, without `maxContainers`, Google's default of 100 instances
 * (function-options.ts) × `maxInputs`; within Cloud Tasks' 5 000.
 */
export function queueLimits(settings: Pick<GcpSettings, "maxInstances" | "concurrency">): QueueLimits {
  return { maxConcurrentDispatches: Math.min(MAX_CONCURRENT, settings.maxInstances * settings.concurrency), maxAttempts: 1 };
}

interface FoundQueue {
  rateLimits?: { maxConcurrentDispatches?: number | string | null } | null;
  retryConfig?: { maxAttempts?: number | string | null } | null;
}

/** What was sent: "created", the mask paths updated, or nothing. */
export type QueueChange = "created" | string[];

export async function ensureQueue(ctx: GcpDeployContext, ref: AppRef, fn: string, limits: QueueLimits): Promise<QueueChange> {
  const tasks = await ctx.sdk.tasks();
  const name = queuePath(ref, fn);
  const found = await gcpCall(`GetQueue ${name}`, async () => {
    try {
      return (await tasks.getQueue({ name }))[0] as FoundQueue;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
  const queue = {
    name,
    rateLimits: { maxConcurrentDispatches: limits.maxConcurrentDispatches },
    retryConfig: { maxAttempts: limits.maxAttempts },
  };
  if (found === undefined) {
    ctx.log(`creating the queue of ${fn}`);
    await gcpCall(`CreateQueue ${name}`, () => tasks.createQueue({ parent: ctx.location, queue }));
    return "created";
  }
  const mask: string[] = [];
  if (Number(found.rateLimits?.maxConcurrentDispatches) !== limits.maxConcurrentDispatches)
    mask.push("rate_limits.max_concurrent_dispatches");
  if (Number(found.retryConfig?.maxAttempts) !== limits.maxAttempts) mask.push("retry_config.max_attempts");
  if (mask.length === 0) return [];
  ctx.log(`updating the queue of ${fn} (${mask.join(", ")})`);
  await gcpCall(`UpdateQueue ${name}`, () => tasks.updateQueue({ queue, updateMask: { paths: mask } }));
  return mask;
}

/** Removes the function's queue; a missing one is fine. */
export async function removeQueue(ctx: GcpDeployContext, ref: AppRef, fn: string): Promise<void> {
  const tasks = await ctx.sdk.tasks();
  const name = queuePath(ref, fn);
  await gcpCall(`DeleteQueue ${name}`, async () => {
    try {
      await tasks.deleteQueue({ name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  });
}
