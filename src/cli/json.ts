/**
 * The JSON form of every value the codec carries, for the CLI's output: `--json` must always
 * print valid JSON, and JSON has no undefined, BigInt, Date, Map, bytes or errors.
 * docs/cli.md ("The JSON form of values") is the table this follows.
 */

/** `value` as JSON text: one line, or indented with `indent` spaces. */
export function toJson(value: unknown, indent = 0): string {
  return JSON.stringify(jsonValue(value, new Set()), null, indent) ?? "null";
}

const base64 = (bytes: ArrayBufferView | ArrayBuffer): string =>
  bytes instanceof ArrayBuffer
    ? Buffer.from(bytes).toString("base64")
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

/** A JSON-safe copy of `value`; `seen` holds the objects on the current path (cycles). */
function jsonValue(value: unknown, seen: Set<object>): unknown {
  switch (typeof value) {
    case "undefined":
      return null;
    case "bigint":
      return value.toString();
    case "number":
      return Number.isFinite(value) ? value : null;
    case "object":
      return value === null ? null : objectValue(value, seen);
    default:
      return value; // string, boolean (functions and symbols never cross the wire)
  }
}

function objectValue(value: object, seen: Set<object>): unknown {
  if (seen.has(value)) return "[Circular]";
  const atom = atomValue(value);
  if (atom !== NOT_ATOM) return atom;
  seen.add(value);
  try {
    const inner = (v: unknown) => jsonValue(v, seen);
    if (Array.isArray(value)) return Array.from(value, inner);
    if (value instanceof Map) return Array.from(value, ([k, v]) => [inner(k), inner(v)]);
    if (value instanceof Set) return Array.from(value, inner);
    if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, inner);
    const out: Record<string, unknown> = {};
    if (value instanceof Error) {
      out.name = value.name;
      out.message = value.message;
    }
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = inner(v);
    if (value instanceof Error && value.cause !== undefined) out.cause = inner(value.cause);
    return out;
  } finally {
    seen.delete(value);
  }
}

const NOT_ATOM = Symbol("not an atom");

/** Objects whose JSON form is one string (or null): dates, patterns, bytes. */
function atomValue(value: object): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof RegExp) return String(value);
  if (value instanceof ArrayBuffer || value instanceof Uint8Array || value instanceof DataView) return base64(value);
  return NOT_ATOM;
}
