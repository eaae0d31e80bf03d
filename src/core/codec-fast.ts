/**
 * The codec's fast paths: payloads that are a lone scalar or a short list of scalars (most
 * results and arguments) skip the tree and cbor-x. codec.ts decides when.
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

/** Room for the largest such payload: an array head, the tag, and 16 float64s. */
const scratch = new Uint8Array(2 + 16 * 9);

/**
 * Writes a lone number, boolean, null or undefined, or an argument list of up to 16 of them,
 * as CBOR without cbor-x (whose set-up and Buffer view cost more than the value), in one pass
 * over a scratch buffer, then copies out exactly the bytes written. Integers in ±2^32 take their
 * shortest form, other numbers a float64. Anything else (a string, -0, an object): undefined,
 * and the general path encodes it.
 */
export function encodeScalars(value: unknown, arrayTag: number): Uint8Array | undefined {
  let at: number;
  if (!Array.isArray(value)) {
    at = writeScalar(scratch, 0, value);
  } else {
    if (value.length > 16) return undefined;
    scratch[0] = 0x81 + value.length;
    scratch[1] = arrayTag;
    at = 2;
    for (let i = 0; i < value.length && at >= 0; i++) at = writeScalar(scratch, at, value[i]);
  }
  return at < 0 ? undefined : scratch.slice(0, at);
}

/** Writes one scalar at `at`; returns the offset after it, or -1 when `v` is not such a scalar. */
function writeScalar(out: Uint8Array, at: number, v: unknown): number {
  if (typeof v !== "number") {
    if (v === false) out[at] = 0xf4;
    else if (v === true) out[at] = 0xf5;
    else if (v === null) out[at] = 0xf6;
    else if (v === undefined) out[at] = 0xf7;
    else return -1;
    return at + 1;
  }
  if (v === 0 && 1 / v < 0) return -1; // -0 travels as a tag
  const major = v < 0 ? 0x20 : 0;
  const n = v < 0 ? -1 - v : v;
  if (!Number.isInteger(v) || n > 0xffff_ffff) {
    out[at] = 0xfb;
    float.setFloat64(0, v);
    for (let i = 0; i < 8; i++) out[at + 1 + i] = float.getUint8(i);
    return at + 9;
  }
  if (n < 0x18) {
    out[at] = major | n;
    return at + 1;
  }
  if (n < 0x100) {
    out[at] = major | 0x18;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at] = major | 0x19;
    out[at + 1] = n >>> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  out[at] = major | 0x1a;
  out[at + 1] = n >>> 24;
  out[at + 2] = (n >>> 16) & 0xff;
  out[at + 3] = (n >>> 8) & 0xff;
  out[at + 4] = n & 0xff;
  return at + 5;
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
