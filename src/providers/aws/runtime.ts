/**
 * @module
 * faasade/aws/runtime: the Lambda side. Bundle it beside the app's module (which must be imported
 * first, so that its functions are defined) and point Lambda at:
 * - `handler`: direct invokes (`remote`, map inputs), one envelope in, one outcome out; and SQS
 *   batches (spawned inputs): results to S3, retries by the function's policy as delayed SQS
 *   messages (Lambda's own retries stay off), partial batch failures reported. A Lambda function
 *   has one handler, and both invokes and its queue reach it, so `handler` tells them apart by
 *   the event; `invokeHandler` and `sqsHandler` take one kind each, for your own infrastructure;
 * - `streamHandler` (wrap it in `awslambda.streamifyResponse`): generators, one JSON line per
 *   yielded value, then the outcome.
 * The same executor as every other runtime runs the input, so `currentInput()` and nested calls
 * (with their call-graph parents) behave as anywhere else.
 */
import type { Writable } from "node:stream";
import { type GraphEvent, flushGraphEvents, forwardGraphEvents, recordCall, recordInput } from "../../core/call-graph.js";
import { InputContext } from "../../core/context.js";
import { InputCancelledError } from "../../core/errors.js";
import { execute } from "../../core/executor.js";
import type { Outcome } from "../../core/provider.js";
import { findApp } from "../../core/registry.js";
import { type WireRequest, type WireResponse, webAdapter } from "../../core/web.js";
import { decode, encode } from "../../core/codec.js";
import { newCallId, newInputId } from "../../core/ids.js";
import { clients, isMissing } from "./clients.js";
import { type Envelope, type StoredResult, type WireOutcome, fromBase64, isEnvelope, toWire } from "./envelope.js";
import { INVOKE_INLINE_BYTES, argsText, offloadOutcome } from "./payloads.js";
import { type Keys, keysIn } from "./names.js";

export interface LambdaContext {
  awsRequestId?: string;
  logStreamName?: string;
}

export interface SqsEvent {
  Records: { messageId: string; body: string }[];
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** What a direct invoke answers: the outcome, and the call-graph records made during it. */
export interface InvokeResponse extends WireOutcome {
  graph?: GraphEvent[];
}

const aws = clients();
/** The app's module, when it is loaded through `appModule`: its import failure, if it failed. */
let loading: Promise<void> | undefined;
let initError: Error | undefined;

/**
 * Imports the app's module through `load` (before the first event is handled): an import that
 * fails then answers every input with INIT_FAILURE (a `RemoteError` for the caller) instead of
 * leaving the environment unable to start, where spawned inputs would be redelivered forever.
 */
export function appModule(load: () => Promise<unknown>): void {
  loading = load().then(
    () => undefined,
    (err: unknown) => {
      initError = err instanceof Error ? err : new Error(String(err));
      console.error("faasade: the app's module failed to import:", err);
    },
  );
}
/** How often a spawned input running here looks for its cancel marker. */
const CANCEL_POLL_MS = 1000;

export async function handler(
  event: unknown,
  context: LambdaContext = {},
): Promise<InvokeResponse | SqsBatchResponse | HttpResponse> {
  if (isSqsEvent(event)) return handleBatch(event, context);
  if (isHttpEvent(event)) return handleHttp(event, context);
  if (!isEnvelope(event)) throw new TypeError("faasade: this handler takes a faasade envelope or an SQS batch");
  const { outcome, graph } = await runInput(event, taskOf(context), () => {});
  const answer = await offloadOutcome(aws, toWire(outcome), event.bucket, INVOKE_INLINE_BYTES, event.keyPrefix);
  return { ...answer, ...(graph.length > 0 ? { graph } : {}) };
}

/** Synchronous invokes only (an envelope in, its outcome out), for infrastructure that routes them apart. */
export async function invokeHandler(event: unknown, context: LambdaContext = {}): Promise<InvokeResponse> {
  if (!isEnvelope(event)) throw new TypeError("faasade: invokeHandler takes a faasade envelope");
  return (await handler(event, context)) as InvokeResponse;
}

/** SQS batches only (spawned inputs), for infrastructure that routes them apart. */
export async function sqsHandler(event: unknown, context: LambdaContext = {}): Promise<SqsBatchResponse> {
  if (!isSqsEvent(event)) throw new TypeError("faasade: sqsHandler takes an SQS batch");
  return handleBatch(event, context);
}

/**
 * Generators: one JSON line per value (`{"c": base64}`), then `{"o": outcome, "graph": [...]}`.
 * A generator function has this as its only handler, so its SQS batches come here too: their
 * answer is written whole (Lambda buffers it for the event source mapping).
 */
export async function streamHandler(event: unknown, stream: Writable, context: LambdaContext = {}): Promise<void> {
  if (isSqsEvent(event)) {
    stream.end(JSON.stringify(await handleBatch(event, context)));
    return;
  }
  if (!isEnvelope(event)) throw new TypeError("faasade: the stream handler takes a faasade envelope");
  let closed = false;
  stream.on("close", () => (closed = true));
  const { outcome, graph } = await runInput(
    event,
    taskOf(context),
    (value) => {
      if (!closed) stream.write(`${JSON.stringify({ c: Buffer.from(value).toString("base64") })}\n`);
    },
    (ctx) => {
      // The caller left (remoteGen exited early): the generator stops at its next yield.
      stream.on("close", () => ctx.abort(new InputCancelledError("the caller stopped reading")));
      return undefined;
    },
  );
  if (!closed) stream.end(`${JSON.stringify({ o: toWire(outcome), ...(graph.length > 0 ? { graph } : {}) })}\n`);
}

/** Runs one input through the shared executor, with its timeout and the call-graph records it makes. */
async function runInput(
  e: Envelope,
  taskId: string,
  onChunk: (value: Uint8Array) => void,
  /** Told the input's context as it starts; what it returns runs when the input ends. */
  onStart: (ctx: InputContext) => (() => void) | undefined = () => undefined,
): Promise<{ outcome: Outcome; graph: GraphEvent[] }> {
  const base = { inputId: e.inputId, attempt: e.attempt, taskId };
  await loading;
  if (initError !== undefined) {
    return { outcome: { ...base, status: "INIT_FAILURE", message: `the app's module failed to import: ${initError.message}` }, graph: [] };
  }
  const handle = findApp(e.app, e.env)?.functionByName(e.fn);
  if (handle === undefined) {
    const message = `this bundle defines no function ${JSON.stringify(e.fn)} of app ${JSON.stringify(e.app)} (environment ${JSON.stringify(e.env)})`;
    return { outcome: { ...base, status: "INIT_FAILURE", message }, graph: [] };
  }
  const { spec } = handle.definition();
  const raw = (spec.options.web ? webAdapter(handle.getRawF()) : handle.getRawF()) as (...args: unknown[]) => unknown;
  const events: GraphEvent[] = [];
  forwardGraphEvents((batch) => events.push(...batch));
  const ctx = new InputContext(e.inputId, e.callId, e.attempt);
  const stopWatching = onStart(ctx);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      ctx.abort(new InputCancelledError(`timed out after ${spec.options.timeoutMs} ms`));
      resolve("timeout");
    }, spec.options.timeoutMs);
  });
  try {
    const args = fromBase64(await argsText(aws, e));
    const result = await Promise.race([execute(raw, ctx, args, spec.isGenerator, onChunk), timedOut]);
    const outcome: Outcome =
      result === "timeout"
        ? { ...base, status: "TIMEOUT", message: `function ${JSON.stringify(e.fn)} timed out after ${spec.options.timeoutMs} ms` }
        : { ...result, ...base };
    flushGraphEvents();
    return { outcome, graph: events };
  } finally {
    clearTimeout(timer);
    stopWatching?.();
    forwardGraphEvents(() => {});
  }
}

async function handleBatch(event: SqsEvent, context: LambdaContext): Promise<SqsBatchResponse> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      await runSpawned(JSON.parse(record.body) as Envelope, taskOf(context));
    } catch (err) {
      // S3 or SQS refused: the message comes back after its visibility timeout, nothing is lost.
      console.error(`faasade: message ${record.messageId} will be delivered again:`, err);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

/** One spawned input: idempotent by call id, cancellable by marker, retried by faasade's policy. */
async function runSpawned(e: Envelope, taskId: string): Promise<void> {
  if (e.spawn === undefined) throw new TypeError("faasade: an SQS message without its spawn target");
  if (e.spawn.map === true) return runMapInput(e, taskId);
  const { bucket, queueUrl, retentionMs } = e.spawn;
  const keys: Keys = keysIn(e.keyPrefix ?? "");
  const { s3, exists, put } = await objectsIn(bucket);
  const { GetObjectCommand } = await import("@aws-sdk/client-s3");
  const handle = findApp(e.app, e.env)?.functionByName(e.fn);
  const spec = handle?.definition().spec;
  const store = async (outcome: Outcome, graph: GraphEvent[]) => {
    const now = Date.now();
    const stored: StoredResult = {
      outcome: toWire(outcome),
      fn: e.fn,
      isGenerator: spec?.isGenerator ?? false,
      finishedAt: now,
      expiresAt: now + retentionMs,
    };
    if (graph.length > 0)
      await put(
        keys.graph(e.callId),
        JSON.stringify(await mergeGraph(s3, GetObjectCommand, bucket, keys.graph(e.callId), graph)),
      );
    await put(keys.result(e.callId), JSON.stringify(stored));
  };

  if (await exists(keys.result(e.callId))) return; // a redelivery of a finished call
  if (await exists(keys.cancel(e.callId))) {
    await store({ inputId: e.inputId, attempt: e.attempt, status: "TERMINATED", taskId }, []);
    return;
  }
  // The root's records come first, so that the tree can be rebuilt from them in order.
  const before = captureGraph(() => {
    if (spec === undefined) return;
    recordCall(e.callId, e.parent, spec);
    recordInput(e.callId, e.inputId, "PENDING");
  });
  let chunk = 0;
  const writes: Promise<unknown>[] = [];
  let writeFailed: { error: unknown } | undefined;
  const { outcome, graph } = await runInput(
    e,
    taskId,
    // Handled at once: a failed write must not surface as an unhandled rejection mid-input.
    (value) => writes.push(put(keys.chunk(e.callId, chunk++), value).catch((error: unknown) => (writeFailed ??= { error }))),
    cancelledBy(() => exists(keys.cancel(e.callId)), "the call was cancelled"),
  );
  await Promise.all(writes);
  if (writeFailed !== undefined) throw writeFailed.error; // the message comes back; the call runs again
  const finish = async (final: Outcome) => {
    const after = captureGraph(() => spec !== undefined && recordInput(e.callId, e.inputId, final.status, taskId));
    await store(final, [...before, ...graph, ...after]);
  };
  if (await exists(keys.cancel(e.callId))) {
    await finish({ ...outcome, status: "TERMINATED", value: undefined, error: undefined });
    return;
  }
  const retryable = outcome.status === "FAILURE" || outcome.status === "TIMEOUT" || outcome.status === "INIT_FAILURE";
  const delay = retryable && spec !== undefined ? spec.options.retries.delayBeforeRetry(e.attempt) : undefined;
  if (delay !== undefined) {
    const { SendMessageCommand } = await import("@aws-sdk/client-sqs");
    const sqs = await aws.sqs();
    const next: Envelope = { ...e, attempt: e.attempt + 1 };
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(next),
        DelaySeconds: Math.min(900, Math.ceil(delay / 1000)),
      }),
    );
    return;
  }
  await finish(outcome);
}

/**
 * One input of a map sent through SQS: its outcome goes to `map-results/`, once per attempt, and
 * failures are not retried here (the caller's map retries its inputs, as it does for invokes).
 */
async function runMapInput(e: Envelope, taskId: string): Promise<void> {
  const { bucket } = e.spawn as NonNullable<Envelope["spawn"]>;
  const keys = keysIn(e.keyPrefix ?? "");
  const { exists, put } = await objectsIn(bucket);
  const resultKey = keys.mapResult(e.callId, e.inputId, e.attempt);
  if (await exists(resultKey)) return; // a redelivery
  if (await exists(keys.cancel(e.callId))) return; // the map was left: nobody reads this input
  const { outcome } = await runInput(
    e,
    taskId,
    () => {},
    cancelledBy(() => exists(keys.cancel(e.callId)), "the map was left"),
  );
  await put(resultKey, JSON.stringify({ outcome: toWire(outcome) }));
}

/** Aborts a queued input once its cancel marker exists: polled, since S3 tells nobody when one appears. */
const cancelledBy = (marked: () => Promise<boolean>, reason: string) => (ctx: InputContext) => {
  const watch = setInterval(() => {
    marked().then(
      (yes) => yes && ctx.abort(new InputCancelledError(reason)),
      () => {},
    );
  }, CANCEL_POLL_MS);
  return () => clearInterval(watch);
};

/** What a queued input does with its bucket: ask whether a key exists, and put one. */
async function objectsIn(bucket: string) {
  const s3 = await aws.s3();
  const { HeadObjectCommand, PutObjectCommand } = await import("@aws-sdk/client-s3");
  return {
    s3,
    exists: (key: string): Promise<boolean> =>
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
        () => true,
        (err: unknown) => {
          if (isMissing(err)) return false;
          throw err;
        },
      ),
    put: (key: string, body: string | Uint8Array) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })),
  };
}

/** The call-graph records `record` makes. */
function captureGraph(record: () => unknown): GraphEvent[] {
  const events: GraphEvent[] = [];
  forwardGraphEvents((batch) => events.push(...batch));
  try {
    record();
    flushGraphEvents();
  } finally {
    forwardGraphEvents(() => {});
  }
  return events;
}

/** Graph records of a call accumulate over its attempts. */
async function mergeGraph(
  s3: Awaited<ReturnType<typeof aws.s3>>,
  GetObjectCommand: typeof import("@aws-sdk/client-s3").GetObjectCommand,
  bucket: string,
  key: string,
  graph: GraphEvent[],
): Promise<GraphEvent[]> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return [...(JSON.parse((await got.Body?.transformToString()) ?? "[]") as GraphEvent[]), ...graph];
  } catch (err) {
    if (isMissing(err)) return graph;
    throw err;
  }
}

/** A function URL request (payload format 2.0), for web functions. */
export interface HttpEvent {
  version: "2.0";
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string>;
  requestContext: { domainName?: string; http: { method: string } };
  body?: string;
  isBase64Encoded?: boolean;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

/** A web function behind its function URL: the request becomes one input, its Response the answer. */
async function handleHttp(event: HttpEvent, context: LambdaContext): Promise<HttpResponse> {
  const query = event.rawQueryString ? `?${event.rawQueryString}` : "";
  const request: WireRequest = {
    method: event.requestContext.http.method,
    url: `https://${event.requestContext.domainName ?? "localhost"}${event.rawPath}${query}`,
    headers: Object.entries(event.headers ?? {}),
    body:
      event.body === undefined ? undefined : new Uint8Array(Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8")),
  };
  const envelope: Envelope = {
    v: 1,
    app: process.env.FAASADE_APP ?? "",
    env: process.env.FAASADE_ENVIRONMENT ?? "main",
    fn: process.env.FAASADE_FUNCTION ?? "",
    inputId: newInputId(),
    callId: newCallId(),
    attempt: 1,
    args: Buffer.from(encode([request], "args")).toString("base64"),
  };
  const { outcome } = await runInput(envelope, taskOf(context), () => {});
  if (outcome.status === "SUCCESS") {
    const response = decode(outcome.value as Uint8Array) as WireResponse;
    return {
      statusCode: response.status,
      headers: Object.fromEntries(response.headers),
      body: Buffer.from(response.body).toString("base64"),
      isBase64Encoded: true,
    };
  }
  const text = process.env.FAASADE_WEB_ERRORS === "expose" ? (outcome.message ?? "error") : "internal error";
  return {
    statusCode: outcome.status === "TIMEOUT" ? 504 : 500,
    headers: { "content-type": "text/plain" },
    body: text,
    isBase64Encoded: false,
  };
}

function isHttpEvent(event: unknown): event is HttpEvent {
  const e = event as Partial<HttpEvent> | null;
  return e?.version === "2.0" && typeof e.rawPath === "string" && e.requestContext?.http !== undefined;
}

function isSqsEvent(event: unknown): event is SqsEvent {
  return Array.isArray((event as SqsEvent | null)?.Records);
}

function taskOf(context: LambdaContext): string {
  return context.logStreamName ?? process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? `lambda-${process.pid}`;
}
