/**
 * The queue primitive on Cloud Tasks: one queue by its resource name, each message one
 * CreateTask of an HTTP task to the function's URL (OIDC-authenticated when a service account
 * is given), named from the message's `dedupKey` so that a resend is de-duplicated by Google.
 */
import { createHash } from "node:crypto";
import { sendEach } from "../../cloud/batching.js";
import type { Queue, QueueMessage } from "../../cloud/primitives.js";
import { InvalidError } from "../../core/errors.js";
import { unlessNotFound } from "../../cloud/sdk-errors.js";
import { type GcpClients, gcpCall, isAlreadyExists } from "./clients.js";

export interface TasksQueueOptions {
  /** `projects/P/locations/L/queues/Q`. */
  queuePath: string;
  /** Where each task is sent: the function's URL. */
  targetUrl: string;
  /** The service account Cloud Tasks mints the OIDC token for; no token when absent. */
  serviceAccountEmail?: string | undefined;
  /** The token's audience. @default the target URL (as Google does) */
  audience?: string | undefined;
  /** The function's own timeout: the dispatch deadline is that plus a margin, within Cloud Tasks' [15 s, 30 min]. @default 10 min deadline */
  functionTimeoutMs?: number | undefined;
}

const MB = 1_000_000;
const DAY_MS = 24 * 3_600_000;
const MIN_DEADLINE_MS = 15_000;
const MAX_DEADLINE_MS = 30 * 60_000;
/** Time for the function to answer its own timeout (an outcome written, a response sent) before Tasks gives up on it. */
const DEADLINE_MARGIN_MS = 30_000;
/** An input whose timeout is at most this is held by one dispatch until it ends; a longer one is dispatched again meanwhile. */
export const HELD_FOR_MS = MAX_DEADLINE_MS - DEADLINE_MARGIN_MS;

/**
 * No batch call: `maxBatch` only bounds the CreateTasks one flush has in flight. A task is at
 * most 1 MB with its name, URL and headers (64 KB kept for those); schedules reach 30 days ahead.
 */
const LIMITS = { maxBatch: 100, maxBatchBytes: 16 * MB, maxMessageBytes: MB - 64 * 1024, maxDelayMs: 30 * DAY_MS } as const;

/** The task of `key` in the queue: a sha256 of the key, since Google warns that sequential names slow dispatch down. */
export function taskName(queuePath: string, key: string): string {
  return `${queuePath}/tasks/${createHash("sha256").update(key).digest("hex")}`;
}

/** The dispatch deadline for a function timeout: the timeout plus a margin, within Cloud Tasks' range. */
export function dispatchDeadlineMs(functionTimeoutMs: number | undefined): number {
  if (functionTimeoutMs === undefined) return 10 * 60_000;
  if (!Number.isFinite(functionTimeoutMs) || functionTimeoutMs <= 0) {
    throw new InvalidError(`functionTimeoutMs must be a positive number of milliseconds, got ${String(functionTimeoutMs)}`);
  }
  // Inputs longer than 30 min lose their request at the deadline (the function keeps running; its outcome still goes to storage).
  return Math.min(MAX_DEADLINE_MS, Math.max(MIN_DEADLINE_MS, Math.ceil(functionTimeoutMs) + DEADLINE_MARGIN_MS));
}

function validate(o: TasksQueueOptions): void {
  if (!/^projects\/[^/]+\/locations\/[^/]+\/queues\/[A-Za-z0-9-]+$/.test(o.queuePath)) {
    throw new InvalidError(`queuePath must be projects/P/locations/L/queues/Q, got '${o.queuePath}'`);
  }
  if (!/^https?:\/\//.test(o.targetUrl)) throw new InvalidError(`targetUrl must be an http(s) URL, got '${o.targetUrl}'`);
}

export function tasksQueue(clients: GcpClients, options: TasksQueueOptions): Queue {
  validate(options);
  const { queuePath, targetUrl, serviceAccountEmail, audience } = options;
  const deadlineSeconds = dispatchDeadlineMs(options.functionTimeoutMs) / 1000;
  const oidc = serviceAccountEmail ? { oidcToken: { serviceAccountEmail, audience: audience ?? targetUrl } } : {};

  const task = (m: QueueMessage) => {
    const delay = Math.min(Math.max(0, m.delayMs ?? 0), LIMITS.maxDelayMs);
    const at = Date.now() + delay;
    return {
      ...(m.dedupKey === undefined ? {} : { name: taskName(queuePath, m.dedupKey) }),
      ...(delay > 0 ? { scheduleTime: { seconds: Math.floor(at / 1000), nanos: (at % 1000) * 1e6 } } : {}),
      dispatchDeadline: { seconds: deadlineSeconds },
      httpRequest: {
        url: targetUrl,
        httpMethod: "POST" as const,
        headers: { "Content-Type": "application/json" },
        body: Buffer.from(m.body).toString("base64"),
        ...oidc,
      },
    };
  };

  const send = async (m: QueueMessage) => {
    const tasks = await clients.tasks();
    await gcpCall(`CreateTask ${queuePath}`, async () => {
      try {
        await tasks.createTask({ parent: queuePath, task: task(m) });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err; // a resend of a task Google already has (or had): queued
      }
    });
  };

  return { ...LIMITS, sendBatch: sendEach(send) };
}

/** Removes a task by its full name; false when it was not there (dispatched, done or never sent). */
export async function deleteTask(clients: GcpClients, name: string): Promise<boolean> {
  const tasks = await clients.tasks();
  return (await unlessNotFound(gcpCall(`DeleteTask ${name}`, () => tasks.deleteTask({ name })))) !== undefined;
}

/** A task's body (its FULL view), decoded; undefined when the task is not there. */
export async function taskBody(clients: GcpClients, name: string): Promise<string | undefined> {
  const tasks = await clients.tasks();
  const found = await unlessNotFound(gcpCall(`GetTask ${name}`, () => tasks.getTask({ name, responseView: "FULL" })));
  const body = found?.[0].httpRequest?.body;
  if (body == null) return undefined;
  return (typeof body === "string" ? Buffer.from(body, "base64") : Buffer.from(body)).toString("utf8");
}

/** The queues of this prefix's functions in the region (queue ids start with the prefix, names.ts). */
export async function prefixQueues(
  clients: GcpClients,
  r: { project: string; region: string; prefix: string },
): Promise<string[]> {
  const tasks = await clients.tasks();
  const parent = `projects/${r.project}/locations/${r.region}`;
  const [queues] = await gcpCall(`ListQueues ${parent}`, () => tasks.listQueues({ parent }));
  return queues.map((q) => String(q.name)).filter((name) => name.startsWith(`${parent}/queues/${r.prefix}-`));
}

/**
 * Tasks waiting and being dispatched, from the first page of ListTasks (Cloud Tasks v2 has no
 * queue counts): exact up to 1 000 tasks, "at least 1 000" beyond (docs/gcp.md).
 */
export async function taskCounts(clients: GcpClients, parent: string): Promise<{ queued: number; processing: number }> {
  const tasks = await clients.tasks();
  const [page] = await gcpCall(`ListTasks ${parent}`, () => tasks.listTasks({ parent, pageSize: 1000 }, { autoPaginate: false }));
  const processing = page.filter((t) => Number(t.dispatchCount ?? 0) > Number(t.responseCount ?? 0)).length;
  return { queued: page.length - processing, processing };
}
