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

/**
 * Writes a lone number, boolean, null or undefined, or an argument list of up to 16 of them,
 * as CBOR into bytes of the exact size, without cbor-x (whose set-up and Buffer view cost
 * more than the value). Integers in ±2^32 take their shortest form, other numbers a float64.
 * Anything else (a string, -0, an object): undefined, and the general path encodes it.
 */
export function encodeScalars(value: unknown, arrayTag: number): Uint8Array | undefined {
  if (!Array.isArray(value)) {
    const size = scalarSize(value);
    if (size < 0) return undefined;
    const out = new Uint8Array(size);
    writeScalar(out, 0, value);
    return out;
  }
  if (value.length > 16) return undefined;
  let size = 2; // the array's head and the tag
  for (let i = 0; i < value.length; i++) {
    const item = scalarSize(value[i]);
    if (item < 0) return undefined;
    size += item;
  }
  const out = new Uint8Array(size);
  out[0] = 0x81 + value.length;
  out[1] = arrayTag;
  let at = 2;
  for (let i = 0; i < value.length; i++) at = writeScalar(out, at, value[i]);
  return out;
}

/** Bytes `writeScalar` needs for a value, or -1 when it is not such a scalar. */
function scalarSize(v: unknown): number {
  if (typeof v === "number") {
    if (!Number.isInteger(v)) return 9;
    if (v === 0) return 1 / v > 0 ? 1 : -1; // -0 travels as a tag
    const n = v < 0 ? -1 - v : v;
    return n < 0x18 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n <= 0xffff_ffff ? 5 : 9;
  }
  return v === true || v === false || v === null || v === undefined ? 1 : -1;
}

function writeScalar(out: Uint8Array, at: number, v: unknown): number {
  if (typeof v !== "number") {
    out[at] = v === false ? 0xf4 : v === true ? 0xf5 : v === null ? 0xf6 : 0xf7;
    return at + 1;
  }
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
