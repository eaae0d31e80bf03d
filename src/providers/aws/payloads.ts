/**
 * Payloads above Lambda's and SQS's inline limits travel through the app's bucket: the sender
 * writes the bytes to `payloads/...` and sends a reference; the receiver reads them back. Both
 * sides go through here, so callers and functions never see the difference.
 */
import { type Clients, providerError } from "./clients.js";
import type { Envelope, S3Ref, WireOutcome } from "./envelope.js";
import { keysIn } from "./names.js";

/** A synchronous invoke's request and answer are capped at 6 MB: stay well inside. */
export const INVOKE_INLINE_BYTES = 5 * 1024 * 1024;
/** An SQS message is capped at 256 KB (1 MiB where raised): stay inside the smaller. */
export const QUEUE_INLINE_BYTES = 200 * 1024;

/** Above this, a payload goes up in parts (S3 multipart upload): large objects are safer in pieces. */
const PART_BYTES = 8 * 1024 * 1024;

async function put(sdk: Clients, ref: S3Ref, text: string): Promise<void> {
  const S = await import("@aws-sdk/client-s3");
  const s3 = await sdk.s3();
  const body = Buffer.from(text);
  const at = { Bucket: ref.bucket, Key: ref.key };
  try {
    if (body.byteLength <= PART_BYTES) {
      await s3.send(new S.PutObjectCommand({ ...at, Body: body }));
      return;
    }
    const { UploadId } = await s3.send(new S.CreateMultipartUploadCommand(at));
    const parts: { ETag: string | undefined; PartNumber: number }[] = [];
    for (let offset = 0, n = 1; offset < body.byteLength; offset += PART_BYTES, n++) {
      const part = await s3.send(
        new S.UploadPartCommand({ ...at, UploadId, PartNumber: n, Body: body.subarray(offset, offset + PART_BYTES) }),
      );
      parts.push({ ETag: part.ETag, PartNumber: n });
    }
    await s3.send(new S.CompleteMultipartUploadCommand({ ...at, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    throw providerError(`upload of ${ref.key}`, err);
  }
}

async function get(sdk: Clients, ref: S3Ref): Promise<string> {
  const { GetObjectCommand } = await import("@aws-sdk/client-s3");
  try {
    const got = await (await sdk.s3()).send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return (await got.Body?.transformToString()) ?? "";
  } catch (err) {
    throw providerError(`GetObject ${ref.key}`, err);
  }
}

/** The envelope to send: as is when small enough, else with its arguments in S3. */
export async function offloadArgs(sdk: Clients, envelope: Envelope, bucket: string, limit: number): Promise<Envelope> {
  // The arguments are nearly all of an envelope: skip measuring the rest when they are far below.
  if (envelope.args.length + 4096 <= limit || Buffer.byteLength(JSON.stringify(envelope)) <= limit) return envelope;
  const ref = { bucket, key: keysIn(envelope.keyPrefix ?? "").payload(`${envelope.inputId}-${envelope.attempt}-args`) };
  await put(sdk, ref, envelope.args);
  return { ...envelope, args: "", argsAt: ref };
}

/** The base64 arguments of an envelope, from S3 if they wait there. */
export async function argsText(sdk: Clients, envelope: Envelope): Promise<string> {
  return envelope.argsAt === undefined ? envelope.args : get(sdk, envelope.argsAt);
}

/** An answer to send: as is when small enough, else with its value or error in S3. */
export async function offloadOutcome(
  sdk: Clients,
  w: WireOutcome,
  bucket: string | undefined,
  limit: number,
  keyPrefix = "",
): Promise<WireOutcome> {
  if (bucket === undefined || Buffer.byteLength(JSON.stringify(w)) <= limit) return w;
  const ref = { bucket, key: keysIn(keyPrefix).payload(`${w.inputId}-${w.attempt}-outcome`) };
  await put(sdk, ref, JSON.stringify({ value: w.value, error: w.error }));
  return { ...w, value: undefined, error: undefined, valueAt: ref };
}

/** An answer with its value or error back in place. */
export async function loadOutcome(sdk: Clients, w: WireOutcome): Promise<WireOutcome> {
  if (w.valueAt === undefined) return w;
  const { value, error } = JSON.parse(await get(sdk, w.valueAt)) as { value?: string; error?: string };
  return { ...w, value, error, valueAt: undefined };
}
