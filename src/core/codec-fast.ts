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

/** Reads one scalar at `at` into `lastScalar`; returns the offset after it, or -1. No closures: this runs per value. */
function readScalar(b: Uint8Array, at: number): number {
  const h = b[at] as number;
  let size = 1;
  let value: unknown;
  if (h < 0x18) value = h;
  else if (h >= 0x20 && h < 0x38) value = 0x1f - h;
  else {
    switch (h) {
      case 0x18:
        size = 2;
        value = b[at + 1];
        break;
      case 0x19:
        size = 3;
        value = ((b[at + 1] as number) << 8) | (b[at + 2] as number);
        break;
      case 0x1a:
        size = 5;
        value = readU32(b, at + 1);
        break;
      case 0x38:
        size = 2;
        value = -1 - (b[at + 1] as number);
        break;
      case 0x39:
        size = 3;
        value = -1 - (((b[at + 1] as number) << 8) | (b[at + 2] as number));
        break;
      case 0x3a:
        size = 5;
        value = -1 - readU32(b, at + 1);
        break;
      case 0xf4:
        value = false;
        break;
      case 0xf5:
        value = true;
        break;
      case 0xf6:
        value = null;
        break;
      case 0xf7:
        value = undefined;
        break;
      case 0xfb:
        size = 9;
        if (at + size > b.length) return -1;
        for (let i = 0; i < 8; i++) float.setUint8(i, b[at + 1 + i] as number);
        value = float.getFloat64(0);
        break;
      default:
        return -1;
    }
  }
  if (at + size > b.length) return -1;
  lastScalar = value;
  return at + size;
}

function readU32(b: Uint8Array, at: number): number {
  return (
    (((b[at] as number) << 24) >>> 0) + (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number))
  );
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
