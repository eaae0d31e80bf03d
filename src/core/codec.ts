/**
 * The value codec: every value the contract lists becomes bytes and back.
 *
 * A value is first turned into a tagged tree made only of arrays, strings, numbers,
 * booleans, null, undefined and byte strings; cbor-x then writes that tree as CBOR.
 * The tree step is ours because no library measured here covers the contract alone:
 * cbor-x renames `__proto__` keys and drops -0, devalue refuses `__proto__` keys and class
 * instances, v8.serialize drops error properties and costs ~4 µs per small value
 * (docs/codec.md has the figures). Objects never reach CBOR as maps, so decoding never
 * assigns a key through a prototype and never runs code.
 */
import { Encoder } from "cbor-x/encode";
import { DeserializationError, SerializationError } from "./errors.js";
import { errorConstructor } from "./error-classes.js";
import { NOT_SCALAR, decodeScalar, encodeScalars, isPlainScalar } from "./codec-fast.js";
import { inContainer } from "./registry.js";

enum Tag {
  Ref = 0,
  Array = 1,
  Object = 2,
  NegZero = 3,
  BigInt = 4,
  Date = 5,
  RegExp = 6,
  Map = 7,
  Set = 8,
  Buffer = 9,
  Typed = 10,
  ArrayBuffer = 11,
  Error = 12,
  String16 = 13,
}

const TYPED = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;
type TypedCtor = (typeof TYPED)[number];
type Tree = unknown;

const CBOR_OPTIONS = { useRecords: false, mapsAsObjects: false, tagUint8Array: false } as const;
let cbor = new Encoder(CBOR_OPTIONS);

/**
 * cbor-x's plain entry (above) has no native string decoder; its Node entry adds one (cbor-extract)
 * to the same decoder module, at ~15 ms of every process's start. So the Node entry is loaded at
 * the first decode this large, where native strings pay; later decodes use them. Its name is kept
 * in a variable so that a bundler leaves it out: a cloud bundle ships no native addon of ours.
 */
const NATIVE_STRINGS_FROM_BYTES = 64 * 1024;
const CBOR_NODE_ENTRY = "cbor-x";
let nativeStringsAsked = false;

function askForNativeStrings(): void {
  nativeStringsAsked = true;
  import(CBOR_NODE_ENTRY)
    .then((node: { Encoder?: typeof Encoder }) => {
      // A bundle (a local container's runtime) holds its own copy of cbor-x: use the Node entry's.
      if (node.Encoder !== undefined && node.Encoder !== Encoder) cbor = new node.Encoder(CBOR_OPTIONS);
    })
    .catch(() => {}); // optional, as cbor-x itself treats it
}

/** Encodes a value; throws `SerializationError` naming the path of the first unsupported part. */
export function encode(value: unknown, root = "value"): Uint8Array {
  // Fast paths for the commonest payloads (a scalar result, an argument list of scalars):
  // their tree is the value itself, so no writer, no reference table.
  const scalars = encodeScalars(value, Tag.Array);
  if (scalars !== undefined) return scalars;
  if (isPlainScalar(value)) return cbor.encode(value);
  if (Array.isArray(value) && value.length <= 16 && value.every(isPlainScalar)) return cbor.encode([Tag.Array, ...value]);
  const tree = new TreeWriter(root).write(value);
  return cbor.encode(tree);
}

/** Decodes bytes made by `encode`; throws `DeserializationError` on anything else. */
export function decode(bytes: Uint8Array): unknown {
  const scalar = decodeScalar(bytes, Tag.Array);
  if (scalar !== NOT_SCALAR) return scalar;
  if (!nativeStringsAsked && bytes.byteLength >= NATIVE_STRINGS_FROM_BYTES) askForNativeStrings();
  let tree: Tree;
  try {
    tree = cbor.decode(bytes);
  } catch (cause) {
    throw new DeserializationError(`cannot decode ${bytes.byteLength} bytes: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (typeof tree !== "object" || tree === null) return tree; // a scalar is its own tree
  try {
    return new TreeReader().read(tree);
  } catch (cause) {
    if (cause instanceof DeserializationError) throw cause;
    throw new DeserializationError(`malformed payload: ${(cause as Error).message}`, { cause });
  }
}

class TreeWriter {
  private readonly seen = new Map<object, number>();
  private readonly path: (string | number)[] = [];
  constructor(private readonly root: string) {}

  write(value: unknown): Tree {
    switch (typeof value) {
      case "number":
        return value === 0 && 1 / value < 0 ? [Tag.NegZero] : value;
      case "string":
        return text(value);
      case "boolean":
      case "undefined":
        return value;
      case "bigint":
        return [Tag.BigInt, value.toString()];
      case "object":
        return value === null ? null : this.object(value);
      default:
        return this.fail(typeof value === "function" ? `function ${value.name || "(anonymous)"}` : String(value));
    }
  }

  private object(value: object): Tree {
    const ref = this.seen.get(value);
    if (ref !== undefined) return [Tag.Ref, ref];
    this.seen.set(value, this.seen.size);
    if (Array.isArray(value)) {
      const out: Tree[] = [Tag.Array];
      for (let i = 0; i < value.length; i++) out.push(this.child(i, value[i]));
      return out;
    }
    if (value instanceof Error) return this.error(value);
    if (value instanceof Date) return [Tag.Date, value.getTime()];
    if (value instanceof RegExp) return [Tag.RegExp, text(value.source), value.flags];
    if (value instanceof Map) {
      const out: Tree[] = [Tag.Map];
      let i = 0;
      for (const [k, v] of value) {
        out.push(this.child(`<key ${i}>`, k), this.child(`<value ${i}>`, v));
        i++;
      }
      return out;
    }
    if (value instanceof Set) {
      const out: Tree[] = [Tag.Set];
      let i = 0;
      for (const v of value) out.push(this.child(`<item ${i++}>`, v));
      return out;
    }
    if (ArrayBuffer.isView(value)) {
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
      if (Buffer.isBuffer(value)) return [Tag.Buffer, bytes];
      const kind = (TYPED as readonly unknown[]).indexOf(value.constructor);
      return kind < 0 ? this.fail(`${value.constructor.name}`) : [Tag.Typed, kind, bytes];
    }
    if (value instanceof ArrayBuffer) return [Tag.ArrayBuffer, new Uint8Array(value.slice(0))];
    if (
      value instanceof WeakMap ||
      value instanceof WeakSet ||
      value instanceof WeakRef ||
      value instanceof Promise ||
      value instanceof SharedArrayBuffer
    ) {
      return this.fail(value.constructor.name);
    }
    const out: Tree[] = [Tag.Object];
    for (const key of Object.keys(value)) {
      out.push(text(key), this.child(key, (value as Record<string, unknown>)[key]));
    }
    return out;
  }

  private error(err: Error): Tree {
    const errors = err instanceof AggregateError && Array.isArray(err.errors) ? err.errors : undefined;
    const props: Tree[] = [];
    for (const key of Object.keys(err)) {
      if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
      if (key === "errors" && errors !== undefined) continue;
      props.push(text(key), this.child(key, (err as unknown as Record<string, unknown>)[key]));
    }
    const hasCause = "cause" in err;
    return [
      Tag.Error,
      text(String(err.name)),
      text(String(err.message)),
      typeof err.stack === "string" ? text(err.stack) : undefined,
      props,
      hasCause,
      hasCause ? this.child("cause", err.cause) : undefined,
      errors === undefined ? undefined : this.child("errors", errors),
    ];
  }

  private child(key: string | number, value: unknown): Tree {
    this.path.push(key);
    const tree = this.write(value);
    this.path.pop();
    return tree;
  }

  private fail(what: string): never {
    throw new SerializationError(`cannot send ${formatPath(this.root, this.path)}: ${what} is not supported`);
  }
}

class TreeReader {
  private readonly refs: unknown[] = [];

  read(tree: Tree): unknown {
    if (!Array.isArray(tree)) {
      // a leaf is a primitive; objects cbor-x may build from hand-made CBOR (maps, tags, records) are not ours
      if (typeof tree === "object" && tree !== null) return this.bad(tree instanceof Uint8Array ? "bare bytes" : "object");
      return tree;
    }
    switch (tree[0] as Tag) {
      case Tag.Ref:
        return this.ref(tree[1]);
      case Tag.Array: {
        const out: unknown[] = this.keep(new Array(tree.length - 1));
        for (let i = 1; i < tree.length; i++) out[i - 1] = this.read(tree[i]);
        return out;
      }
      case Tag.Object: {
        const out: Record<string, unknown> = this.keep({});
        for (let i = 1; i < tree.length; i += 2) setOwn(out, readText(tree[i]), this.read(tree[i + 1]));
        return out;
      }
      case Tag.NegZero:
        return -0;
      case Tag.BigInt:
        return BigInt(String(tree[1]));
      case Tag.String16:
        return unitsString(bytesOf(tree[1]));
      case Tag.Date:
        return this.keep(new Date(Number(tree[1])));
      case Tag.RegExp:
        return this.keep(new RegExp(readText(tree[1]), String(tree[2])));
      case Tag.Map: {
        const out = this.keep(new Map());
        for (let i = 1; i < tree.length; i += 2) out.set(this.read(tree[i]), this.read(tree[i + 1]));
        return out;
      }
      case Tag.Set: {
        const out = this.keep(new Set());
        for (let i = 1; i < tree.length; i++) out.add(this.read(tree[i]));
        return out;
      }
      case Tag.Buffer:
        return this.keep(Buffer.from(copyBytes(tree[1])));
      case Tag.Typed:
        return this.keep(typedArray(TYPED[Number(tree[1])], copyBytes(tree[2])));
      case Tag.ArrayBuffer:
        return this.keep(copyBytes(tree[1]).buffer);
      case Tag.Error:
        return this.error(tree);
      default:
        return this.bad(`tag ${String(tree[0])}`);
    }
  }

  private error(tree: Tree[]): Error {
    const [, rawName, rawMessage, stack, props, hasCause, cause, errors] = tree;
    const name = readText(rawName);
    const message = readText(rawMessage);
    const Ctor = errorConstructor(String(name));
    const err = this.keep(Ctor === AggregateError ? new AggregateError([], String(message)) : new Ctor(String(message)));
    if (err.name !== name) Object.defineProperty(err, "name", { value: String(name), writable: true, configurable: true });
    Object.defineProperty(err, "stack", {
      value: stack == null ? `${name}: ${message}` : readText(stack),
      writable: true,
      configurable: true,
    });
    const list = props as Tree[];
    for (let i = 0; i < list.length; i += 2)
      setOwn(err as unknown as Record<string, unknown>, readText(list[i]), this.read(list[i + 1]));
    if (hasCause === true) Object.defineProperty(err, "cause", { value: this.read(cause), writable: true, configurable: true });
    if (errors !== undefined)
      Object.defineProperty(err, "errors", { value: this.read(errors), writable: true, configurable: true });
    return err;
  }

  private keep<T>(value: T): T {
    this.refs.push(value);
    return value;
  }

  private ref(id: unknown): unknown {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= this.refs.length) {
      return this.bad(`reference ${String(id)}`);
    }
    return this.refs[id];
  }

  private bad(what: string): never {
    throw new DeserializationError(`malformed payload: unexpected ${what}`);
  }
}

/** Assigns an own data property, so that `__proto__` stays a plain key. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new DeserializationError("malformed payload: expected bytes");
}

/** A fresh, aligned copy: decoded byte strings may be views into the input buffer. */
function copyBytes(value: unknown): Uint8Array {
  return new Uint8Array(bytesOf(value));
}

function typedArray(Ctor: TypedCtor | undefined, bytes: Uint8Array): ArrayBufferView {
  if (Ctor === undefined) throw new DeserializationError("malformed payload: unknown typed array kind");
  if (Ctor === DataView) return new DataView(bytes.buffer);
  const per = (Ctor as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (bytes.byteLength % per !== 0) throw new DeserializationError("malformed payload: typed array length");
  return new (Ctor as Int8ArrayConstructor)(bytes.buffer, 0, bytes.byteLength / per);
}

/** A string as a tree: as is when well-formed, else its UTF-16 units (CBOR text is UTF-8 and would lose lone surrogates). */
function text(value: string): Tree {
  return value.isWellFormed() ? value : [Tag.String16, stringUnits(value)];
}

function readText(tree: Tree): string {
  return Array.isArray(tree) && tree[0] === Tag.String16 ? unitsString(bytesOf(tree[1])) : String(tree);
}

function stringUnits(value: string): Uint8Array {
  const units = new Uint16Array(value.length);
  for (let i = 0; i < value.length; i++) units[i] = value.charCodeAt(i);
  return new Uint8Array(units.buffer);
}

function unitsString(bytes: Uint8Array): string {
  const units = new Uint16Array(copyBytes(bytes).buffer);
  let out = "";
  for (const unit of units) out += String.fromCharCode(unit);
  return out;
}

/** `args[1].callback`, `value.list[3]`, `args[0].<key 2>`. */
export function formatPath(root: string, path: readonly (string | number)[]): string {
  let out = root;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += `.${part}`;
    else if (part.startsWith("<")) out += `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/**
 * Runs the scalar paths once with every kind of scalar, as plain views and as Buffers (1-6 ms):
 * when the module loads, or in a local container once it has said it is ready, where it overlaps
 * the parent's reply instead of delaying the first call. V8 compiles a hot function for the kinds of values it has seen; a
 * number of a size it has not seen yet (the first 1-byte result after a warm-up on larger ones)
 * throws the optimized code away mid-map. A first 20 000-input map after a warm-up on other
 * numbers ran ~30 % slower than the next one before this (docs/performance.md).
 */
let primed = false;

export function primeScalarPaths(): void {
  if (primed) return;
  primed = true;
  const values: unknown[] = [
    ...[0, 1, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, -1, -24, -25, -256, -257, -65_537, -(2 ** 32)],
    ...[0.5, -0.5, Number.NaN, Number.POSITIVE_INFINITY, true, false, null, undefined, "", "ab"],
  ];
  for (let round = 0; round < 3; round++) {
    for (const value of values) {
      for (const payload of [value, [value], [value, 1]]) {
        const bytes = encode(payload);
        decode(bytes);
        decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      }
    }
  }
}
if (!inContainer()) primeScalarPaths();
