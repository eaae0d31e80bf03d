/**
 * Which delivery of a queued attempt runs it. Queues deliver at least once, and deliver again
 * when a message outlives its visibility timeout: the environment that had it may still be
 * running it (a visibility shorter than the input), or the platform may have ended that
 * environment without an outcome (at the function's timeout: sync code that never yields; out
 * of memory; a crash). The first delivery marks the attempt started. A later one that finds the
 * mark within the function's timeout and the platform's margin hands the message back, since the
 * first may still finish it; past that, the first is surely gone: the attempt runs once more
 * (the loss may have been faasade's own), and when that is lost too it ended without an
 * outcome: TIMEOUT, retried by policy like any other. Without the mark, every redelivery ran
 * the attempt again, and a function that outlives its timeout was delivered until the
 * dead-letter queue took it, its call never settled.
 */
import type { FunctionSpec, Outcome } from "../core/provider.js";
import type { ObjectStore } from "./primitives.js";
import type { Envelope } from "./wire.js";

/**
 * Beyond the function's timeout: the platform stops a function at the timeout faasade configures
 * (AWS: timeoutMs rounded up to seconds, plus one), and the clocks of two hosts differ a little.
 */
export const LEASE_MARGIN_MS = 3_000;
/**
 * Lost deliveries of one attempt run again this many times without using it: the loss may be
 * faasade's own (a store refusing the result until the platform's timeout), not the function's.
 */
const RERUNS = 1;

/** A delivery of an attempt another environment may still be running: the platform delivers it again later. */
export class AttemptStillRunning extends Error {}

interface Mark {
  startedAt: number;
  taskId: string;
  /** Deliveries that ran this attempt and were lost, before this one. */
  lost?: number;
}

/** What the platform tells of the deliveries before this one. */
export interface EarlierDeliveries {
  /**
   * They ended before this one began (Azure's host keeps a running message invisible until its run
   * ends): a mark is a run that was lost, never one still going, and it is not waited for.
   */
  ended?: boolean;
  /** The first one ran the attempt without marking it (a first delivery that reads nothing, consumer.ts). */
  ranUnmarked?: boolean;
}

/** Resolves when this delivery should run the attempt (marked now); the outcome, when the attempt was lost. */
export async function claimAttempt(
  store: ObjectStore,
  key: string,
  e: Pick<Envelope, "fn" | "attempt" | "inputId">,
  spec: FunctionSpec | undefined,
  taskId: string,
  earlier: EarlierDeliveries = {},
): Promise<Outcome | undefined> {
  const mark = parseMark(await store.get(key)) ?? (earlier.ranUnmarked ? { startedAt: 0, taskId: "(unmarked)" } : undefined);
  if (mark === undefined) {
    // Only if no other delivery marked it meanwhile (copies delivered at once): that one runs it.
    if (await store.put(key, JSON.stringify({ startedAt: Date.now(), taskId } satisfies Mark), { ifAbsent: true }))
      return undefined;
    throw new AttemptStillRunning(
      `attempt ${e.attempt} of function ${JSON.stringify(e.fn)} was marked started by another delivery just now`,
    );
  }
  const timeoutMs = spec?.options.timeoutMs ?? 0;
  const ranMs = Date.now() - mark.startedAt;
  if (!earlier.ended && ranMs <= timeoutMs + LEASE_MARGIN_MS) {
    throw new AttemptStillRunning(
      `attempt ${e.attempt} of function ${JSON.stringify(e.fn)} started ${ranMs} ms ago in ${mark.taskId} and may still be running there`,
    );
  }
  const lost = (mark.lost ?? 0) + 1;
  if (lost <= RERUNS) {
    await store.put(key, JSON.stringify({ startedAt: Date.now(), taskId, lost } satisfies Mark));
    return undefined;
  }
  if (earlier.ended && ranMs < timeoutMs) return crashed(e, mark.taskId, lost);
  return {
    inputId: e.inputId,
    attempt: e.attempt,
    status: "TIMEOUT",
    taskId: mark.taskId,
    message: `function ${JSON.stringify(e.fn)} did not finish within its timeout of ${timeoutMs} ms: its execution environment (${mark.taskId}) ended without an outcome ${lost} times (the platform stops it at the timeout; running out of memory or a crash end it the same way)`,
  };
}

/** An attempt whose instance ended before its timeout, each time it ran. */
const crashed = (e: Pick<Envelope, "fn" | "attempt" | "inputId">, taskId: string, times: number): Outcome => ({
  inputId: e.inputId,
  attempt: e.attempt,
  status: "FAILURE",
  taskId,
  message: `the instance running function ${JSON.stringify(e.fn)} exited or crashed while running it, ${times} times (a process.exit, running out of memory, or a crash)`,
});

function parseMark(bytes: Uint8Array | undefined): Mark | undefined {
  if (bytes === undefined) return undefined;
  try {
    const mark = JSON.parse(Buffer.from(bytes).toString("utf8")) as Partial<Mark>;
    if (typeof mark.startedAt === "number" && typeof mark.taskId === "string") return mark as Mark;
  } catch {
    // unreadable: treated as no mark, the attempt runs (at least once)
  }
  return undefined;
}
