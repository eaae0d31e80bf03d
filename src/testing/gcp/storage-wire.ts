/**
 * The Cloud Storage JSON API as the storage test double speaks it: stored objects, the errors and
 * replies it answers with, preconditions, multipart uploads and the hashes Google reports.
 */
import { createHash } from "node:crypto";
import { CRC32C } from "@google-cloud/storage";

export interface StoredObject {
  bytes: Buffer;
  /** Base64 hashes, computed once at insert (a 20 MB object is listed and read many times). */
  md5Hash: string;
  crc32c: string;
  generation: number;
  meta: Record<string, unknown>;
  created: string;
  updated: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** An answer other than a JSON resource: a download's bytes, a resumable session's 200 or 308. */
export class Reply {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | number>,
    readonly body?: Buffer | string,
  ) {}
}

export const media = (o: StoredObject) =>
  new Reply(
    200,
    {
      "content-type": String(o.meta.contentType ?? "application/octet-stream"),
      "content-length": o.bytes.byteLength,
      "x-goog-hash": `crc32c=${o.crc32c},md5=${o.md5Hash}`,
      "x-goog-generation": String(o.generation),
      "x-goog-stored-content-encoding": "identity",
    },
    o.bytes,
  );

export const conditionNotMet = () =>
  new HttpError(412, "conditionNotMet", "At least one of the pre-conditions you specified did not hold.");

export function checkPreconditions(object: StoredObject | undefined, q: URLSearchParams): void {
  const match = q.get("ifGenerationMatch");
  const notMatch = q.get("ifGenerationNotMatch");
  const generation = object?.generation ?? 0;
  if (match !== null && Number(match) !== generation) throw conditionNotMet();
  if (notMatch !== null && Number(notMatch) === generation) throw conditionNotMet();
}

/** Object names sort by their UTF-8 bytes, as Google lists them. */
export const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A multipart/related upload: the JSON metadata part, then the media part. */
export function splitMultipart(body: Buffer, contentType: string): [Record<string, unknown>, Buffer] {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (boundary === undefined) throw new HttpError(400, "invalid", "multipart upload without a boundary");
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  for (let at = body.indexOf(delimiter); at >= 0; ) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(at + delimiter.length + 2, next - 2); // after "--b\r\n", before "\r\n--b"
    const headersEnd = part.indexOf("\r\n\r\n");
    parts.push(part.subarray(headersEnd + 4));
    at = next;
  }
  const [meta, media] = parts;
  if (meta === undefined || media === undefined) throw new HttpError(400, "invalid", "multipart upload without two parts");
  return [JSON.parse(meta.toString() || "{}") as Record<string, unknown>, Buffer.from(media)];
}

/** CRC-32C as Google reports it (base64 of the big-endian 4 bytes), by the storage client's own class. */
function crc32c(bytes: Buffer): string {
  const c = new CRC32C();
  c.update(bytes);
  return c.toString();
}

/** What insert stores beside the bytes: base64 MD5 and CRC-32C, computed once. */
export const hashesOf = (bytes: Buffer) => ({ md5Hash: createHash("md5").update(bytes).digest("base64"), crc32c: crc32c(bytes) });
