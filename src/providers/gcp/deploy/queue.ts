/**
 * A function's Cloud Tasks queue (its id is the function's id), idempotently: created when
 * missing; otherwise only the limits that differ are sent, under an update mask.
 *
 * Cloud Tasks' retries are deliveries again of the same attempt, as SQS's visibility timeout
 * gives them: a delivery the runtime could not finish (its instance crashed or was ended, the
 * store kept refusing, another delivery of the attempt may still run it) comes back, and the
 * attempt lease (src/cloud/attempt-lease.ts) decides whether it runs. They never count as the
 * function's retries: those are faasade's, queued as new tasks with the policy's delay. With one
 * attempt (`max_attempts` 1), such a delivery would be dropped and its call never settle.
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
  retryConfig: typeof REDELIVERY;
}

/**
 * Deliveries again of a task not answered 2xx: soon at first (a crash), then at most a minute
 * apart, enough for an hour-long input whose first delivery Cloud Tasks' 30-minute dispatch
 * deadline cut while it ran on (each later delivery is handed back until its outcome is stored).
 */
export const REDELIVERY = { maxAttempts: 100, minBackoff: { seconds: 1 }, maxBackoff: { seconds: 60 }, maxDoublings: 6 };

/**
 * `maxContainers × maxInputs`, or, without `maxContainers`, Google's default of 100 instances
 * (function-options.ts) × `maxInputs`; within Cloud Tasks' 5 000.
 */
export function queueLimits(settings: Pick<GcpSettings, "maxInstances" | "concurrency">): QueueLimits {
  return {
    maxConcurrentDispatches: Math.min(MAX_CONCURRENT, settings.maxInstances * settings.concurrency),
    retryConfig: REDELIVERY,
  };
}

interface FoundQueue {
  rateLimits?: { maxConcurrentDispatches?: number | string | null } | null;
  retryConfig?: Partial<Record<keyof typeof REDELIVERY, number | string | null | { seconds?: number | string | null }>> | null;
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
    retryConfig: limits.retryConfig,
  };
  if (found === undefined) {
    ctx.log(`creating the queue of ${fn}`);
    await gcpCall(`CreateQueue ${name}`, () => tasks.createQueue({ parent: ctx.location, queue }));
    return "created";
  }
  const mask: string[] = [];
  if (Number(found.rateLimits?.maxConcurrentDispatches) !== limits.maxConcurrentDispatches)
    mask.push("rate_limits.max_concurrent_dispatches");
  for (const [field, path] of RETRY_FIELDS)
    if (!sameSetting(found.retryConfig?.[field], limits.retryConfig[field])) mask.push(`retry_config.${path}`);
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

const RETRY_FIELDS = [
  ["maxAttempts", "max_attempts"],
  ["minBackoff", "min_backoff"],
  ["maxBackoff", "max_backoff"],
  ["maxDoublings", "max_doublings"],
] as const;

/** A number, or a duration (`{ seconds }`; Google answers `{ seconds: "60" }`, or "60s" as JSON). */
function sameSetting(found: unknown, wanted: number | { seconds: number }): boolean {
  const seconds = (v: unknown): number =>
    typeof v === "object" && v !== null ? Number((v as { seconds?: unknown }).seconds ?? 0) : Number.parseFloat(String(v));
  return typeof wanted === "number" ? Number(found) === wanted : seconds(found) === seconds(wanted);
}
