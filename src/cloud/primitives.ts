/**
 * The few primitives a cloud translates to its platform; everything else of a cloud provider
 * (the wire, payload offload, durable calls, the queue consumer, fan-out, send batching) is
 * written once in src/cloud/ on top of them. docs/providers.md explains each for provider authors.
 */
import type { FunctionSpec } from "../core/provider.js";

/** An object store scoped to one bucket or container (S3, Cloud Storage, Blob Storage). */
export interface ObjectStore {
  /** The object's bytes; `undefined` when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Whether the object exists (cheaper than `get` where the platform has a HEAD). */
  has(key: string): Promise<boolean>;
  /** Writes the object. With `ifAbsent`, only if no object has the key: resolves false when one had. */
  put(key: string, body: Uint8Array | string, options?: { ifAbsent?: boolean }): Promise<boolean>;
  /** Keys under `prefix` in lexicographic order, after `after` if given; pages are fetched as the loop needs them. */
  list(prefix: string, options?: { after?: string }): AsyncIterable<string>;
  /** Removes the objects; missing ones are no error. */
  delete(keys: readonly string[]): Promise<void>;
  /** When the object was last written (ms since the epoch), where the platform tells; undefined: missing. */
  modifiedAt?(key: string): Promise<number | undefined>;
  /**
   * Loads the client and its credentials (an SDK's import, a token), where the first request
   * would otherwise pay for them: a runtime starts it as a delivery begins, beside the function.
   */
  ready?(): Promise<void>;
}

/** One message to queue. */
export interface QueueMessage {
  body: string;
  /** Delivery no sooner than this; at most the queue's `maxDelayMs` (longer delays are chained by the consumer). */
  delayMs?: number;
  /**
   * Names the message for queues that de-duplicate by name (Cloud Tasks): a second send with
   * the same key (a resend of the same call id and attempt) is dropped by the platform and
   * counts as queued. Queues without named messages ignore it. keys.ts `sendKeys` makes them.
   */
  dedupKey?: string;
}

/** A function's queue of spawned inputs (SQS, Cloud Tasks, Storage Queues). */
export interface Queue {
  /**
   * Sends one platform request holding all of `messages` (within `maxBatch` and
   * `maxBatchBytes`; batching.ts keeps to them). Resolves with one entry per message: `undefined`
   * when queued, else the error that refused it.
   */
  sendBatch(messages: readonly QueueMessage[]): Promise<(Error | undefined)[]>;
  /** Messages one request may carry. */
  readonly maxBatch: number;
  /** Bytes of message bodies one request may carry. */
  readonly maxBatchBytes: number;
  /** Bytes one message may carry; larger arguments go through the object store. */
  readonly maxMessageBytes: number;
  /** The longest delay the platform honours on one message. */
  readonly maxDelayMs: number;
  /**
   * Where the platform names a message by what its send returned (Storage Queues' message id and pop
   * receipt): that name, once the send of the message with `dedupKey` resolved. A call's record keeps it,
   * so that a cancel made anywhere removes the message while it is queued (`CloudPlatform.unqueue`).
   */
  receiptOf?(dedupKey: string): string | undefined;
}

/** What a platform reports when a function did not answer with an outcome (a timeout, a lost environment). */
export interface PlatformFailure {
  status: "FAILURE" | "TIMEOUT";
  message: string;
}

/** Synchronous calls of a deployed function (Lambda Invoke, HTTPS to a function). */
export interface Invoker {
  /** One call: the function's answer text, or the platform's failure. Transient refusals are retried inside. */
  call(fn: FunctionSpec, body: string, signal: AbortSignal): Promise<{ text: string } | { failure: PlatformFailure }>;
  /** A streamed call: each line of the answer as it arrives; resolves with the platform's failure, if any. */
  stream(
    fn: FunctionSpec,
    body: string,
    signal: AbortSignal,
    onLine: (line: string) => void,
  ): Promise<PlatformFailure | undefined>;
  /** Bytes a request or an answer may carry; larger payloads go through the object store. */
  readonly callLimit: number;
}
