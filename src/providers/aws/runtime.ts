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
import { type Envelope, type InvokeAnswer, isEnvelope } from "../../cloud/wire.js";
import { provideModule } from "../../core/providers.js";
import type { WireRequest } from "../../core/web.js";
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
  if (isHttpEvent(event)) return handleHttp(event, context);
  if (!isEnvelope(event))
    throw new TypeError("faasade: this handler takes a faasade envelope, an SQS batch or a function URL request");
  return answerInvoke(event, platform.store, taskOf(context), INVOKE_INLINE_BYTES);
}

/** Synchronous invokes only (an envelope in, its outcome out), for infrastructure that routes them apart. */
export async function invokeHandler(event: unknown, context: LambdaContext = {}): Promise<InvokeAnswer> {
  if (!isEnvelope(event)) throw new TypeError("faasade: invokeHandler takes a faasade envelope");
  return answerInvoke(event, platform.store, taskOf(context), INVOKE_INLINE_BYTES);
}

/** SQS batches only (spawned inputs), for infrastructure that routes them apart. */
export async function sqsHandler(event: unknown, context: LambdaContext = {}): Promise<SqsBatchResponse> {
  if (!isSqsEvent(event)) throw new TypeError("faasade: sqsHandler takes an SQS batch");
  return handleBatch(event, context);
}

/** Generators (wrapped in `awslambda.streamifyResponse`); a generator function's SQS batches are answered whole. */
export async function streamHandler(event: unknown, stream: Writable, context: LambdaContext = {}): Promise<void> {
  if (isSqsEvent(event)) {
    stream.end(JSON.stringify(await handleBatch(event, context)));
    return;
  }
  if (!isEnvelope(event)) throw new TypeError("faasade: the stream handler takes a faasade envelope");
  let closed = false;
  stream.on("close", () => (closed = true));
  await streamInvoke(event, platform.store, taskOf(context), {
    write: (line) => stream.write(line),
    end: (line) => stream.end(line),
    get closed() {
      return closed;
    },
    onClose: (listener) => stream.on("close", listener),
  });
}

async function handleBatch(event: SqsEvent, context: LambdaContext): Promise<SqsBatchResponse> {
  const batchItemFailures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      await consume(JSON.parse(record.body) as Envelope, platform, taskOf(context));
    } catch (err) {
      // S3 or SQS refused: the message comes back after its visibility timeout, nothing is lost.
      console.error(`faasade: message ${record.messageId} will be delivered again:`, err);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
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
