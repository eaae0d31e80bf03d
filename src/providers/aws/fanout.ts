/**
 * Maps through SQS ("fan-out"): the inputs of a large map go to the function's queue in batches
 * of 10 instead of one Lambda invoke each, and their outcomes come back through S3, found by
 * listing the map's prefix (one request finds up to 1 000 finished inputs). The process holds no
 * connection per input, and Lambda scales on the queue. Which maps take this path: docs/aws.md.
 */
import type { Input, Outcome, OutcomeSink } from "../../core/provider.js";
import { type Clients, providerError } from "./clients.js";
import { type Envelope, type WireOutcome, fromWire } from "./envelope.js";
import type { Keys } from "./names.js";

/** Polling the map's results: soon after sending, then less often while nothing arrives. */
const POLL_MIN_MS = 50;
const POLL_MAX_MS = 500;

interface Waiting {
  input: Input;
  sink: OutcomeSink;
}

export interface FanOut {
  submit(envelopes: Envelope[], inputs: readonly Input[], sink: OutcomeSink, target: { bucket: string; queueUrl: string }): void;
  /** Inputs no longer wanted: their outcomes are dropped, and queued ones never run (the map's cancel marker). */
  abort(inputIds: readonly string[]): void;
  close(): void;
}

export function fanOut(clients: Clients, keys: Keys, send: (queueUrl: string, body: string) => Promise<void>): FanOut {
  /** Per map (call id): its bucket, and the inputs waiting for an outcome. */
  /** Per map: `polling` while a round runs, `timer` while the next one waits; never two rounds at once. */
  const maps = new Map<
    string,
    { bucket: string; waiting: Map<string, Waiting>; interval: number; timer: NodeJS.Timeout | undefined; polling: boolean }
  >();
  const byInput = new Map<string, string>();

  const poll = async (callId: string) => {
    const m = maps.get(callId);
    if (m === undefined) return;
    m.timer = undefined;
    m.polling = true;
    const S = await import("@aws-sdk/client-s3");
    const s3 = await clients.s3();
    let arrived = 0;
    try {
      const listed = await s3.send(new S.ListObjectsV2Command({ Bucket: m.bucket, Prefix: keys.mapResults(callId) }));
      const done: string[] = [];
      for (const { Key } of listed.Contents ?? []) {
        if (Key === undefined) continue;
        done.push(Key);
        const [inputId, attempt] = Key.slice(keys.mapResults(callId).length).split(".");
        const w = m.waiting.get(inputId ?? "");
        if (w === undefined || String(w.input.attempt) !== attempt) continue; // aborted, or an older attempt
        const got = await s3.send(new S.GetObjectCommand({ Bucket: m.bucket, Key }));
        const { outcome } = JSON.parse((await got.Body?.transformToString()) ?? "{}") as { outcome: WireOutcome };
        m.waiting.delete(w.input.inputId);
        byInput.delete(w.input.inputId);
        arrived++;
        w.sink.outcome(w.input, fromWire(outcome));
      }
      // Read once, then gone: the prefix only ever lists what has not been delivered.
      if (done.length > 0) {
        await s3.send(new S.DeleteObjectsCommand({ Bucket: m.bucket, Delete: { Objects: done.map((Key) => ({ Key })) } }));
      }
    } catch (err) {
      const message = providerError("reading map results", err).message;
      for (const w of m.waiting.values()) {
        byInput.delete(w.input.inputId);
        w.sink.outcome(w.input, { inputId: w.input.inputId, attempt: w.input.attempt, status: "FAILURE", message } as Outcome);
      }
      m.waiting.clear();
    }
    m.polling = false;
    if (m.waiting.size === 0) {
      maps.delete(callId);
      return;
    }
    m.interval = arrived > 0 ? POLL_MIN_MS : Math.min(POLL_MAX_MS, m.interval * 1.5);
    m.timer = setTimeout(() => void poll(callId), m.interval);
  };

  return {
    submit(envelopes, inputs, sink, target) {
      const callId = inputs[0]?.callId;
      if (callId === undefined) return;
      let m = maps.get(callId);
      if (m === undefined) {
        m = { bucket: target.bucket, waiting: new Map(), interval: POLL_MIN_MS, timer: undefined, polling: false };
        maps.set(callId, m);
      }
      const map = m;
      inputs.forEach((input, i) => {
        map.waiting.set(input.inputId, { input, sink });
        byInput.set(input.inputId, callId);
        send(target.queueUrl, JSON.stringify(envelopes[i])).catch((err: unknown) => {
          if (map.waiting.delete(input.inputId)) {
            byInput.delete(input.inputId);
            sink.outcome(input, {
              inputId: input.inputId,
              attempt: input.attempt,
              status: "FAILURE",
              message: (err as Error).message,
            });
          }
        });
      });
      if (map.timer === undefined && !map.polling) map.timer = setTimeout(() => void poll(callId), POLL_MIN_MS);
    },
    abort(inputIds) {
      const cancelled = new Set<string>();
      for (const id of inputIds) {
        const callId = byInput.get(id);
        if (callId === undefined) continue;
        byInput.delete(id);
        maps.get(callId)?.waiting.delete(id);
        cancelled.add(callId);
      }
      for (const callId of cancelled) {
        const m = maps.get(callId);
        if (m === undefined) continue;
        // Inputs still queued must not run: the runtime checks the map's marker first.
        void (async () => {
          const S = await import("@aws-sdk/client-s3");
          await (await clients.s3()).send(new S.PutObjectCommand({ Bucket: m.bucket, Key: keys.cancel(callId), Body: "" }));
        })().catch(() => {});
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
