/**
 * The codec's fast paths: payloads that are a lone scalar or a short list of scalars (most
 * results and arguments) skip the tree and, when decoding, cbor-x. codec.ts decides when.
 */

export const NOT_SCALAR = Symbol("not a scalar");
const float = new DataView(new ArrayBuffer(8));

/**
 * Reads a lone scalar (a number, boolean, null or undefined) or an argument list of scalars
 * without cbor-x: most results and arguments are such, and cbor-x sets up a DataView for every
 * new buffer it reads. Anything else: NOT_SCALAR, and the general path decodes it.
 */
export function decodeScalar(b: Uint8Array, arrayTag: number): unknown {
  const h = b[0] as number;
  // An argument list: a CBOR array of 1..23 items whose first is the array tag.
  if (h > 0x80 && h < 0x98 && b[1] === arrayTag) {
    const out: unknown[] = [];
    let at = 2;
    for (let i = 1; i < h - 0x80; i++) {
      at = readScalar(b, at);
      if (at < 0) return NOT_SCALAR;
      out.push(lastScalar);
    }
    return at === b.length ? out : NOT_SCALAR;
  }
  return readScalar(b, 0) === b.length ? lastScalar : NOT_SCALAR;
}

let lastScalar: unknown;

/** Reads one scalar at `at` into `lastScalar`; returns the offset after it, or -1. */
function readScalar(b: Uint8Array, at: number): number {
  const h = b[at] as number;
  const byte = (k: number) => b[at + k] as number;
  const end = (size: number, value: unknown) => {
    if (at + size > b.length) return -1;
    lastScalar = value;
    return at + size;
  };
  if (h < 0x18) return end(1, h);
  if (h >= 0x20 && h < 0x38) return end(1, 0x1f - h);
  switch (h) {
    case 0x18:
      return end(2, byte(1));
    case 0x19:
      return end(3, (byte(1) << 8) | byte(2));
    case 0x1a:
      return end(5, ((byte(1) << 24) >>> 0) + ((byte(2) << 16) | (byte(3) << 8) | byte(4)));
    case 0x38:
      return end(2, -1 - byte(1));
    case 0x39:
      return end(3, -1 - ((byte(1) << 8) | byte(2)));
    case 0x3a:
      return end(5, -1 - (((byte(1) << 24) >>> 0) + ((byte(2) << 16) | (byte(3) << 8) | byte(4))));
    case 0xf4:
      return end(1, false);
    case 0xf5:
      return end(1, true);
    case 0xf6:
      return end(1, null);
    case 0xf7:
      return end(1, undefined);
    case 0xfb:
      if (at + 9 > b.length) return -1;
      for (let i = 0; i < 8; i++) float.setUint8(i, byte(i + 1));
      return end(9, float.getFloat64(0));
    default:
      return -1;
  }
}

/** A value that is its own tree: not -0, not a string CBOR cannot carry, not bytes or objects. */
export function isPlainScalar(value: unknown): boolean {
  switch (typeof value) {
    case "number":
      return value !== 0 || 1 / value > 0;
    case "string":
      return value.isWellFormed();
    case "boolean":
    case "undefined":
      return true;
    default:
      return value === null;
  }
}
