/**
 * Spawned calls on AWS: `spawn` writes the call's record to S3 and sends the envelope to the
 * function's SQS queue (acknowledged once SQS has it); `get` reads the result from S3, polling
 * with growing intervals; `cancel` leaves a marker (the runtime checks it before and while it
 * runs) and settles the call TERMINATED if nothing settled it first.
 */
import QuickLRU from "quick-lru";
import { type GraphEvent, type InputInfo, applyGraphEvents, callGraph } from "../../core/call-graph.js";
import { NotFoundError } from "../../core/errors.js";
import type { CallState, CallStore, FunctionSpec } from "../../core/provider.js";
import { type Clients, awsCall, isMissing, providerError } from "./clients.js";
import { type StoredResult, fromWire, toEnvelope, toWire } from "./envelope.js";
import { type AppRef, type Keys, bucketName } from "./names.js";
import { QUEUE_INLINE_BYTES, offloadArgs } from "./payloads.js";

/** What `calls/<callId>.json` records, so that a call id alone finds its bucket's contents. */
interface CallRecordJson {
  fn: string;
  module: string;
  isGenerator: boolean;
  inputId: string;
  parent?: string | undefined;
  createdAt: number;
}

export interface CallStoreOptions {
  clients: Clients;
  /** Sends a message, batched with others sent at the same time (sqs-batch.ts). */
  send(queueUrl: string, body: string): Promise<void>;
  prefix: string;
  /** Keys in the apps' buckets, and their prefix ("" or "faasade/", names.ts). */
  keys: Keys;
  keyPrefix: string;
  /** The shared bucket, when the provider was given one. */
  bucket: string | undefined;
  /** How long results are kept. */
  retentionMs: number;
  /** The bucket a call id belongs to: call ids carry no app, so each provider knows its apps. */
  bucketOf(callId: string): Promise<string | undefined>;
  remember(callId: string, bucket: string): void;
  queueUrl(ref: AppRef, fn: string): Promise<string>;
}

const POLL_MIN_MS = 50;
/** A call that runs 30 s costs ~25 reads of its result: the interval grows to this and stays. */
const POLL_MAX_MS = 1500;
/** How many calls a process remembers facts about (bucket, record, poll interval); older ones are read again. */
export const REMEMBERED_CALLS = 10_000;

export function awsCalls(o: CallStoreOptions): CallStore {
  const s3 = async () => ({ client: await o.clients.s3(), cmd: await import("@aws-sdk/client-s3") });
  const readJson = async <T>(bucket: string, key: string): Promise<T | undefined> => {
    const { client, cmd } = await s3();
    try {
      const got = await client.send(new cmd.GetObjectCommand({ Bucket: bucket, Key: key }));
      return JSON.parse((await got.Body?.transformToString()) ?? "null") as T;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw providerError(`GetObject ${key}`, err);
    }
  };
  const bucketFor = async (callId: string) => {
    const bucket = await o.bucketOf(callId);
    if (bucket === undefined) throw new NotFoundError(`no call ${callId} in the apps this aws provider knows`);
    return bucket;
  };
  /** Calls known to exist, with what their record says: a pending call is then one read per poll. */
  const known = new QuickLRU<string, { fn: string; isGenerator: boolean }>({ maxSize: REMEMBERED_CALLS });
  const stateNow = async (callId: string): Promise<CallState> => {
    const bucket = await bucketFor(callId);
    const result = await readJson<StoredResult>(bucket, o.keys.result(callId));
    if (result !== undefined) {
      known.delete(callId);
      if (result.expiresAt <= Date.now()) return { state: "expired", fn: result.fn, isGenerator: result.isGenerator };
      return { state: "done", fn: result.fn, isGenerator: result.isGenerator, outcome: fromWire(result.outcome) };
    }
    let record = known.get(callId);
    if (record === undefined) {
      const read = await readJson<CallRecordJson>(bucket, o.keys.call(callId));
      if (read === undefined) throw new NotFoundError(`no call ${callId} in this app's bucket ${bucket}`);
      record = { fn: read.fn, isGenerator: read.isGenerator };
      known.set(callId, record);
    }
    return { state: "pending", fn: record.fn, isGenerator: record.isGenerator };
  };
  /** Each call's polling interval, kept across `state` calls: a long `get` asks often at first, then rarely. */
  const intervals = new QuickLRU<string, number>({ maxSize: REMEMBERED_CALLS });
  /** Polls until the call changes or `waitMs` passes. */
  const poll = async <T>(callId: string, waitMs: number, read: () => Promise<T>, changed: (t: T) => boolean): Promise<T> => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const now = await read();
      if (changed(now)) {
        intervals.delete(callId);
        return now;
      }
      if (Date.now() >= deadline) return now;
      const interval = intervals.get(callId) ?? POLL_MIN_MS;
      await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
      intervals.set(callId, Math.min(POLL_MAX_MS, interval * 1.5));
    }
  };

  return {
    async spawn(fn: FunctionSpec, input) {
      const ref: AppRef = { prefix: o.prefix, app: fn.app, environment: fn.environment, bucket: o.bucket };
      const bucket = bucketName(ref);
      const { client, cmd } = await s3();
      const queueUrl = await o.queueUrl(ref, fn.name);
      const record: CallRecordJson = {
        fn: fn.name,
        module: fn.module,
        isGenerator: fn.isGenerator,
        inputId: input.inputId,
        parent: input.parentInputId,
        createdAt: Date.now(),
      };
      const key = o.keys.call(input.callId);
      const putRecord = awsCall(`PutObject ${key} (bucket ${bucket})`, () =>
        client.send(new cmd.PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(record) })),
      );
      o.remember(input.callId, bucket);
      known.set(input.callId, { fn: fn.name, isGenerator: fn.isGenerator });
      const envelope = await offloadArgs(
        o.clients,
        { ...toEnvelope(fn, input, bucket, o.keyPrefix), spawn: { bucket, queueUrl, retentionMs: o.retentionMs } },
        bucket,
        QUEUE_INLINE_BYTES,
      );
      // Both before the spawn resolves: the record (what get reads) and the message (the work).
      await Promise.all([putRecord, o.send(queueUrl, JSON.stringify(envelope))]);
    },
    async state(callId, waitMs) {
      return poll(
        callId,
        waitMs,
        () => stateNow(callId),
        (s) => s.state !== "pending",
      );
    },
    async chunks(callId, from, waitMs) {
      const bucket = await bucketFor(callId);
      const read = async () => {
        const { client, cmd } = await s3();
        const listed = await client.send(new cmd.ListObjectsV2Command({ Bucket: bucket, Prefix: o.keys.chunks(callId) }));
        const names = (listed.Contents ?? [])
          .map((c) => c.Key as string)
          .sort()
          .slice(from);
        const chunks: Uint8Array[] = [];
        for (const key of names) {
          const got = await client.send(new cmd.GetObjectCommand({ Bucket: bucket, Key: key }));
          chunks.push(await (got.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())));
        }
        return { ...(await stateNow(callId)), chunks };
      };
      return poll(callId, waitMs, read, (s) => s.chunks.length > 0 || s.state !== "pending");
    },
    async cancel(callId) {
      const bucket = await bucketFor(callId);
      const now = await stateNow(callId);
      if (now.state !== "pending") return;
      const { client, cmd } = await s3();
      await client.send(new cmd.PutObjectCommand({ Bucket: bucket, Key: o.keys.cancel(callId), Body: "" }));
      const record = await readJson<CallRecordJson>(bucket, o.keys.call(callId));
      const stored: StoredResult = {
        outcome: toWire({ inputId: record?.inputId ?? "", attempt: 0, status: "TERMINATED" }),
        fn: now.fn,
        isGenerator: now.isGenerator,
        finishedAt: Date.now(),
        expiresAt: Date.now() + o.retentionMs,
      };
      // Only if nothing settled it meanwhile: a finished call stays finished.
      await client
        .send(
          new cmd.PutObjectCommand({
            Bucket: bucket,
            Key: o.keys.result(callId),
            Body: JSON.stringify(stored),
            IfNoneMatch: "*",
          }),
        )
        .catch((err: unknown) => {
          if ((err as { name?: string }).name !== "PreconditionFailed") throw providerError("PutObject (cancel)", err);
        });
    },
    async callGraph(callId): Promise<InputInfo[]> {
      const bucket = await bucketFor(callId);
      // A call's records, then those of the calls spawned from inside it (each kept with its own call).
      // The call's own record and result first: the tree has its root even before its runtime wrote any.
      const record = await readJson<CallRecordJson>(bucket, o.keys.call(callId));
      if (record === undefined) throw new NotFoundError(`no call ${callId} in this app's bucket ${bucket}`);
      const result = await readJson<StoredResult>(bucket, o.keys.result(callId));
      applyGraphEvents([
        { call: callId, parent: record.parent, fn: record.fn, module: record.module },
        { call: callId, input: record.inputId, status: result?.outcome.status ?? "PENDING", task: result?.outcome.taskId ?? "" },
      ]);
      const seen = new Set<string>();
      const queue = [callId];
      while (queue.length > 0 && seen.size < 1000) {
        const id = queue.shift() as string;
        if (seen.has(id)) continue;
        seen.add(id);
        const events = (await readJson<GraphEvent[]>(bucket, o.keys.graph(id))) ?? [];
        applyGraphEvents(events);
        for (const e of events) if ("fn" in e && !seen.has(e.call)) queue.push(e.call);
      }
      return callGraph(callId);
    },
  };
}
