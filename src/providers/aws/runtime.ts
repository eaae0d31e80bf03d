/**
 * @module
 * faasade/aws/runtime: the Lambda side, a thin adapter around the cloud layer's runtime
 * (src/cloud/). Bundle it beside the app's module, load that module through `appModule`
 * (so that an import failure answers INIT_FAILURE instead of killing the environment), and
 * point Lambda at:
 * - `handler`: direct invokes (`remote`, map inputs: one envelope in, one outcome out), SQS
 *   batches (spawned inputs, partial batch failures reported) and function URL requests (web
 *   functions). A Lambda function has one handler, so `handler` tells them apart by the event;
 *   `invokeHandler` and `sqsHandler` take one kind each, for your own infrastructure;
 * - `streamHandler` (wrap it in `awslambda.streamifyResponse`): generators, one JSON line per
 *   yielded value, then the outcome; their SQS batches come here too.
 */
import type { Writable } from "node:stream";
import { type ConsumerPlatform, consume } from "../../cloud/consumer.js";
import { answerInvoke, answerWeb, streamInvoke } from "../../cloud/invoked.js";
import type { ObjectStore, Queue } from "../../cloud/primitives.js";
import { type Envelope, type InvokeAnswer, checkEnvelope } from "../../cloud/wire.js";
import { InvalidError } from "../../core/errors.js";
import { provideModule } from "../../core/providers.js";
import { httpRequestOf, looksLikeHttpEvent } from "./web-event.js";
import { clients } from "./clients.js";
import { awsProvider } from "./platform.js";
import { INVOKE_INLINE_BYTES } from "./lambda-invoker.js";
import { s3Store } from "./s3-store.js";
import { sqsQueue } from "./sqs-queue.js";

export { appModule } from "../../cloud/run-input.js";
export type { InvokeAnswer as InvokeResponse } from "../../cloud/wire.js";

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

export type { HttpEvent } from "./web-event.js";

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

// Calls made inside a function go to this cloud (FAASADE_PROVIDER=aws there), also from a bundle.
provideModule("aws", { defaultProvider: () => awsProvider({}) });

const sdk = clients();
const stores = new Map<string, ObjectStore>();
const queues = new Map<string, Queue>();
const platform: ConsumerPlatform = {
  store: (bucket) => stores.get(bucket) ?? (stores.set(bucket, s3Store(sdk, bucket)).get(bucket) as ObjectStore),
  queue: (url) => queues.get(url) ?? (queues.set(url, sqsQueue(sdk, url)).get(url) as Queue),
};

export async function handler(
  event: unknown,
  context: LambdaContext = {},
): Promise<InvokeAnswer | SqsBatchResponse | HttpResponse> {
  if (isSqsEvent(event)) return handleBatch(event, context);
  if (looksLikeHttpEvent(event)) return handleHttp(event, context);
  const e = checkEnvelope(
    event,
    "faasade: this handler takes a faasade envelope, an SQS batch or a function URL request; envelope",
  );
  return answerInvoke(e, platform.store, taskOf(context), INVOKE_INLINE_BYTES);
}

/** Synchronous invokes only (an envelope in, its outcome out), for infrastructure that routes them apart. */
export async function invokeHandler(event: unknown, context: LambdaContext = {}): Promise<InvokeAnswer> {
  const e = checkEnvelope(event, "faasade: invokeHandler takes a faasade envelope; envelope");
  return answerInvoke(e, platform.store, taskOf(context), INVOKE_INLINE_BYTES);
}

/** SQS batches only (spawned inputs), for infrastructure that routes them apart. */
export async function sqsHandler(event: unknown, context: LambdaContext = {}): Promise<SqsBatchResponse> {
  if (!isSqsEvent(event)) throw new InvalidError("faasade: sqsHandler takes an SQS batch (an object with Records)");
  return handleBatch(event, context);
}

/** Generators (wrapped in `awslambda.streamifyResponse`); a generator function's SQS batches are answered whole. */
export async function streamHandler(event: unknown, stream: Writable, context: LambdaContext = {}): Promise<void> {
  if (isSqsEvent(event)) {
    stream.end(JSON.stringify(await handleBatch(event, context)));
    return;
  }
  const e = checkEnvelope(event, "faasade: the stream handler takes a faasade envelope; envelope");
  let closed = false;
  stream.on("close", () => (closed = true));
  await streamInvoke(e, platform.store, taskOf(context), {
    write: (line) => stream.write(line),
    end: (line) => stream.end(line),
    get closed() {
      return closed;
    },
    onClose: (listener) => stream.on("close", listener),
  });
}

/**
 * A batch of queued inputs. A record that can never be run (not JSON, not an envelope of a
 * queued input) is dropped with a log line naming the message and what was wrong: reported as
 * failed it would only come back until the dead-letter queue took it. A record that fails to be
 * run (S3 or SQS refused) is reported, and comes back.
 */
async function handleBatch(event: SqsEvent, context: LambdaContext): Promise<SqsBatchResponse> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    let envelope: Envelope;
    try {
      envelope = queuedEnvelope(record);
    } catch (err) {
      const id = typeof record?.messageId === "string" ? record.messageId.slice(0, 200) : "(no messageId)";
      console.error(`faasade: dropped message ${id}, which can never run: ${(err as Error).message}`);
      continue;
    }
    try {
      await consume(envelope, platform, taskOf(context));
    } catch (err) {
      // S3 or SQS refused: the message comes back after its visibility timeout, nothing is lost.
      console.error(`faasade: message ${record.messageId} will be delivered again:`, err);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

/** A record's envelope, if it can ever run: JSON, an envelope, with its spawn target and store. */
function queuedEnvelope(record: unknown): Envelope {
  const r = record as { messageId?: unknown; body?: unknown } | null;
  if (typeof r !== "object" || r === null) throw new InvalidError("the record is not an object");
  if (typeof r.messageId !== "string") throw new InvalidError("the record has no messageId");
  if (typeof r.body !== "string") throw new InvalidError("the record has no body text");
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.body);
  } catch (err) {
    throw new InvalidError(`its body (${r.body.length} characters) is not JSON: ${(err as Error).message}`);
  }
  const e = checkEnvelope(parsed);
  if (e.spawn === undefined) throw new InvalidError("envelope.spawn: a queued input needs its spawn target, got undefined");
  if (e.store === undefined) throw new InvalidError("envelope.store: a queued input needs its store, got undefined");
  return e;
}

/** A web function behind its function URL: the request becomes one input, its Response the answer; a malformed event is a 400. */
async function handleHttp(event: unknown, context: LambdaContext): Promise<HttpResponse> {
  let request: ReturnType<typeof httpRequestOf>;
  try {
    request = httpRequestOf(event);
  } catch (err) {
    const text = (err as Error).message;
    return {
      statusCode: 400,
      headers: { "content-type": "text/plain" },
      body: Buffer.from(text).toString("base64"),
      isBase64Encoded: true,
    };
  }
  const fn = {
    app: process.env.FAASADE_APP ?? "",
    env: process.env.FAASADE_ENVIRONMENT ?? "main",
    fn: process.env.FAASADE_FUNCTION ?? "",
  };
  const response = await answerWeb(request, fn, taskOf(context), process.env.FAASADE_WEB_ERRORS === "expose");
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers),
    body: Buffer.from(response.body).toString("base64"),
    isBase64Encoded: true,
  };
}

function isSqsEvent(event: unknown): event is SqsEvent {
  return Array.isArray((event as SqsEvent | null)?.Records);
}

function taskOf(context: LambdaContext): string {
  return context.logStreamName ?? process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? `lambda-${process.pid}`;
}
