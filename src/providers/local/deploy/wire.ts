/**
 * The control API's wire: CBOR bodies (cbor-x; argument and result bytes stay bytes), and
 * for streamed answers, frames of a 4-byte length and a CBOR message.
 */
import type { IncomingMessage } from "node:http";
import { Decoder, Encoder } from "cbor-x";

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

/** Reads a request body, refusing more than `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit && !over) {
        // Refused, but the rest is read and dropped so that the 413 reaches the client.
        over = true;
        chunks.length = 0;
        reject(new HttpError(413, `request body over ${limit} bytes`));
      }
      if (!over) chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
