/**
 * The control API's wire: CBOR bodies (cbor-x; argument and result bytes stay bytes), and
 * for streamed answers, frames of a 4-byte length and a CBOR message.
 */
import type { IncomingMessage } from "node:http";
import { Decoder, Encoder } from "cbor-x/encode";

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export const CBOR = "application/cbor";

/** A refusal the control API answers with its own status (any other error is a 500). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function pack(value: unknown): Buffer {
  return encoder.encode(value) as Buffer;
}

export function unpack<T>(bytes: Uint8Array): T {
  return decoder.decode(bytes) as T;
}

/** How deep a control API body may nest: its bodies are shallow, and a deeper one is no client's. */
export const MAX_BODY_DEPTH = 64;

/**
 * A request body, decoded: anything that is not CBOR, or nests deeper than `MAX_BODY_DEPTH`,
 * is refused with 400 (the decoder recurses, so a deep one would end in a stack overflow).
 */
export function unpackRequest<T>(bytes: Uint8Array): T {
  if (bytes.byteLength === 0) throw new HttpError(400, "the request body is empty: expected a CBOR document");
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (err) {
    if (err instanceof RangeError && /call stack/i.test(err.message))
      throw new HttpError(400, `the request body nests deeper than ${MAX_BODY_DEPTH} levels`);
    throw new HttpError(400, `the request body is not valid CBOR: ${(err as Error)?.message ?? String(err)}`);
  }
  if (depthOver(value, MAX_BODY_DEPTH)) throw new HttpError(400, `the request body nests deeper than ${MAX_BODY_DEPTH} levels`);
  return value as T;
}

/** Whether `value` nests deeper than `limit` arrays and objects (walked without recursion). */
function depthOver(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== "object" || ArrayBuffer.isView(node)) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/** A path's segments, decoded; malformed percent-encoding is a 400 that quotes the segment. */
export function pathSegments(pathname: string): string[] {
  return pathname
    .split("/")
    .filter(Boolean)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw new HttpError(400, `malformed percent-encoding in path segment ${JSON.stringify(segment.slice(0, 200))}`);
      }
    });
}

export function frame(value: unknown): Buffer {
  const body = pack(value);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.byteLength, 0);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames as they arrive. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (value: unknown) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const size = this.pending.readUInt32BE(0);
      if (this.pending.length < 4 + size) return;
      const body = this.pending.subarray(4, 4 + size);
      this.pending = this.pending.subarray(4 + size);
      onFrame(unpack(body));
    }
  }
}

/**
 * Reads a request body, refusing more than `limit` bytes (at once when its content-length says
 * so). A request whose client goes away mid-body rejects; it never throws outside the promise.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) {
      req.on("error", () => {}).resume(); // dropped, so that the 413 reaches the client
      reject(new HttpError(413, `request body of ${declared} bytes is over the limit of ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit && !over) {
        // Refused, but the rest is read and dropped so that the 413 reaches the client.
        over = true;
        chunks.length = 0;
        reject(new HttpError(413, `request body is over the limit of ${limit} bytes`));
      }
      if (!over) chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", (err) => reject(new HttpError(400, `the request body was cut off: ${err.message}`)));
    req.on("close", () => {
      if (!req.complete) reject(new HttpError(400, "the request body was cut off: the client went away"));
    });
  });
}
