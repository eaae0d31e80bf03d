import { Encoder } from "cbor-x";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decode, encode } from "../src/core/codec.js";
import { DeserializationError, InvalidError, SerializationError } from "../src/core/errors.js";

/**
 * Generated values are *builders*: each call makes a fresh object graph, so a property can
 * add shared or cyclic links to it (or plant a bad value) without mutating anything that
 * fast-check keeps for shrinking.
 */
type Build = () => unknown;

/** Marks a builder so that fast-check prints the value it builds in counterexamples. */
const mk = (build: Build): Build => Object.assign(build, { [fc.toStringMethod]: () => fc.stringify(build()) });

const RUNS = { numRuns: 150 };

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

/** Any UTF-16 code unit, lone surrogates included, plus a few full code points. */
const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom("\uD800", "\uDBFF", "\uDC00", "\uDFFF", "😀", "é", "\u0000"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);
const anyString = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: codeUnit, maxLength: 8 }));

/** Object keys, including the ones that could reach a prototype. */
const objectKey = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 6 }) },
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "0", "10", "a b", "<x>"),
  fc.string({ unit: codeUnit, maxLength: 4 }),
);

/** Own properties of an error; `name`, `message` and `stack` are sent as strings by design, so they are left out. */
const errorKey = objectKey.filter((k) => k !== "name" && k !== "message" && k !== "stack");

const number = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 53 - 1, -(2 ** 53), 2 ** 64, Number.MIN_VALUE),
  fc.float().map((f) => f), // float32-exact doubles
);

const regexp = fc
  .tuple(
    fc.constantFrom("a+b", "^x$", "\\d{2,}", "(?<n>a)|b", "[a-z]*", "", "\\/", "."),
    fc.subarray(["d", "g", "i", "m", "s", "u", "y"]),
  )
  .map(
    ([source, flags]) =>
      () =>
        new RegExp(source, flags.join("")),
  );

const bytes = fc.uint8Array({ maxLength: 24 });

/** Typed arrays of every kind, sometimes as a view in the middle of a larger buffer. */
const typed: fc.Arbitrary<Build> = fc.oneof(
  fc.int8Array({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.uint8Array({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.uint8ClampedArray({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.int16Array({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.uint16Array({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.int32Array({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.uint32Array({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.float32Array({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.float64Array({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.bigInt64Array({ maxLength: 6 }).map((a) => () => a.slice()),
  fc.bigUint64Array({ maxLength: 6 }).map((a) => () => a.slice()),
  bytes.map((a) => () => Buffer.from(a)),
  bytes.map((a) => () => new DataView(a.slice().buffer)),
  bytes.map((a) => () => a.slice().buffer),
  fc.tuple(bytes, fc.nat(4), fc.nat(4)).map(([a, pre, post]) => () => {
    const big = new Uint8Array(pre * 4 + a.length * 4 + post * 4);
    const view = new Uint32Array(big.buffer, pre * 4, a.length);
    view.set(a);
    return view;
  }),
);

const leaf: fc.Arbitrary<Build> = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, true, false).map((v) => () => v),
  number.map((v) => () => v),
  fc.bigInt().map((v) => () => v),
  anyString.map((v) => () => v),
  fc.date({ noInvalidDate: false }).map((d) => () => new Date(d.getTime())),
  regexp,
  typed,
);

class Point {
  constructor(
    public x: unknown,
    public y: unknown,
  ) {}
  norm(): number {
    return 0;
  }
}

class CustomError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CustomError";
  }
}

const ERROR_CLASSES = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
  InvalidError,
  CustomError,
} as const;

/** The class a decoded error should have: the built-in (or faasade) class of that name, or Error. */
const EXPECTED_ERROR_CLASS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError: AggregateError as unknown as ErrorConstructor,
  InvalidError: InvalidError as unknown as ErrorConstructor,
};

function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const values = fc.letrec<{ value: Build; node: Build }>((tie) => ({
  value: fc.oneof({ depthSize: "small", maxDepth: 4 }, { weight: 3, arbitrary: leaf }, tie("node")),
  node: fc.oneof(
    fc.array(tie("value"), { maxLength: 4 }).map((items) => () => items.map((b) => b())),
    fc.array(fc.tuple(objectKey, tie("value")), { maxLength: 4 }).map((entries) => () => {
      const out = {};
      for (const [k, b] of entries) defineOwn(out, k, b());
      return out;
    }),
    fc.array(fc.tuple(tie("value"), tie("value")), { maxLength: 3 }).map((entries) => () => {
      return new Map(entries.map(([k, v]) => [k(), v()]));
    }),
    fc.array(tie("value"), { maxLength: 3 }).map((items) => () => new Set(items.map((b) => b()))),
    fc.tuple(tie("value"), tie("value")).map(
      ([x, y]) =>
        () =>
          new Point(x(), y()),
    ),
    fc
      .record({
        kind: fc.constantFrom(...(Object.keys(ERROR_CLASSES) as (keyof typeof ERROR_CLASSES)[])),
        message: anyString,
        props: fc.array(fc.tuple(errorKey, tie("value")), { maxLength: 2 }),
        cause: fc.option(tie("value"), { nil: undefined }),
        hasCause: fc.boolean(),
        errors: fc.array(tie("value"), { maxLength: 2 }),
        withStack: fc.boolean(),
      })
      .map((spec) => () => {
        const Ctor = ERROR_CLASSES[spec.kind];
        const options = spec.hasCause ? { cause: spec.cause?.() } : undefined;
        const err =
          Ctor === AggregateError
            ? new AggregateError(
                spec.errors.map((b) => b()),
                spec.message,
                options,
              )
            : Ctor === CustomError
              ? new CustomError(spec.message)
              : new (Ctor as ErrorConstructor)(spec.message, options);
        if (!spec.withStack) Object.defineProperty(err, "stack", { value: undefined, writable: true, configurable: true });
        for (const [k, b] of spec.props) defineOwn(err, k, b());
        return err;
      }),
  ),
}));
/** Any supported value, as a builder that prints what it builds. */
const valueArb = values.value.map(mk);

// ---------------------------------------------------------------------------------------------
// A deep equality that also checks the codec's promises
// ---------------------------------------------------------------------------------------------

const TYPED_PROTOS = new Set(
  [
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
    Buffer,
  ].map((C) => C.prototype),
);

const viewBytes = (v: ArrayBufferView | ArrayBuffer): Buffer =>
  v instanceof ArrayBuffer ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * Throws with a path when `b` (decoded) is not what `a` (sent) should become. Objects are matched
 * one to one, so a shared or cyclic reference must come back as the same decoded object, and two
 * distinct sent objects must come back distinct. -0, NaN and lone surrogates compare with Object.is.
 */
function assertSame(
  a: unknown,
  b: unknown,
  path = "$",
  seen = new Map<object, unknown>(),
  back = new Map<unknown, object>(),
): void {
  const fail = (why: string): never => {
    throw new Error(`${path}: ${why}`);
  };
  if (typeof a !== "object" || a === null) {
    if (!Object.is(a, b)) fail(`expected ${String(a)} (${typeof a}), got ${String(b)} (${typeof b})`);
    return;
  }
  if (typeof b !== "object" || b === null) {
    fail(`expected an object, got ${String(b)}`);
    return;
  }
  if (seen.has(a)) {
    if (seen.get(a) !== b) fail("a shared reference came back as a different object");
    return;
  }
  if (back.has(b)) fail("two distinct objects came back as one");
  seen.set(a, b);
  back.set(b, a);
  const proto = Object.getPrototypeOf(a);
  const bProto = Object.getPrototypeOf(b);
  const sub = (x: unknown, y: unknown, p: string) => assertSame(x, y, p, seen, back);

  if (Array.isArray(a)) {
    if (bProto !== Array.prototype) fail("not an array");
    const bArr = b as unknown[];
    if (a.length !== bArr.length) fail(`length ${a.length} vs ${bArr.length}`);
    a.forEach((x, i) => {
      sub(x, bArr[i], `${path}[${i}]`);
    });
    if (Object.keys(b).length !== a.length) fail("extra keys on the array");
    return;
  }
  if (a instanceof Date) {
    if (bProto !== Date.prototype) fail("not a Date");
    if (!Object.is(a.getTime(), (b as Date).getTime())) fail("different time");
    return;
  }
  if (a instanceof RegExp) {
    if (bProto !== RegExp.prototype) fail("not a RegExp");
    if (a.source !== (b as RegExp).source || a.flags !== (b as RegExp).flags) fail("different RegExp");
    return;
  }
  if (a instanceof Map) {
    if (bProto !== Map.prototype) fail("not a Map");
    const ea = [...a];
    const eb = [...(b as Map<unknown, unknown>)];
    if (ea.length !== eb.length) fail(`size ${ea.length} vs ${eb.length}`);
    ea.forEach(([k, v], i) => {
      sub(k, eb[i]?.[0], `${path}.<key ${i}>`);
      sub(v, eb[i]?.[1], `${path}.<value ${i}>`);
    });
    return;
  }
  if (a instanceof Set) {
    if (bProto !== Set.prototype) fail("not a Set");
    const ia = [...a];
    const ib = [...(b as Set<unknown>)];
    if (ia.length !== ib.length) fail(`size ${ia.length} vs ${ib.length}`);
    ia.forEach((v, i) => {
      sub(v, ib[i], `${path}.<item ${i}>`);
    });
    return;
  }
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    if (!TYPED_PROTOS.has(proto) && proto !== ArrayBuffer.prototype) fail("unexpected binary kind sent");
    if (bProto !== proto) fail(`kind ${proto.constructor.name} came back as ${bProto?.constructor?.name}`);
    if (!viewBytes(a).equals(viewBytes(b as ArrayBufferView))) fail("different bytes");
    return;
  }
  if (a instanceof Error) {
    const err = b as Error & { errors?: unknown };
    const Expected = EXPECTED_ERROR_CLASS[a.name] ?? Error;
    if (bProto !== Expected.prototype) fail(`error class ${bProto?.constructor?.name}, expected ${Expected.name}`);
    if (err.name !== a.name) fail(`name ${err.name} vs ${a.name}`);
    if (err.message !== a.message) fail("different message");
    if (typeof a.stack === "string" && err.stack !== a.stack) fail("different stack");
    if ("cause" in a !== "cause" in err) fail("cause presence differs");
    if ("cause" in a) sub(a.cause, err.cause, `${path}.cause`);
    const aggregate = a instanceof AggregateError;
    if (aggregate) sub(a.errors, err.errors, `${path}.errors`);
    const skip = new Set(["name", "message", "stack", "cause", ...(aggregate ? ["errors"] : [])]);
    const ka = Object.keys(a).filter((k) => !skip.has(k));
    const kb = Object.keys(b).filter((k) => !skip.has(k));
    if (ka.join("\u0001") !== kb.join("\u0001")) fail(`error keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`);
    for (const k of ka) sub((a as never)[k], (b as never)[k], `${path}[${JSON.stringify(k)}]`);
    return;
  }
  // plain objects, null-prototype objects and class instances all arrive as plain objects
  if (bProto !== Object.prototype) fail("decoded object does not have Object.prototype");
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join("\u0001") !== kb.join("\u0001")) fail(`keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`);
  for (const k of ka) {
    const d = Object.getOwnPropertyDescriptor(b, k);
    if (d === undefined || !("value" in d) || !d.enumerable) fail(`key ${JSON.stringify(k)} is not an own data property`);
    sub((a as never)[k], d?.value, `${path}[${JSON.stringify(k)}]`);
  }
}

const pollutionFree = (): boolean =>
  (({}) as Record<string, unknown>).polluted === undefined &&
  !Object.hasOwn(Object.prototype, "polluted") &&
  !Object.hasOwn(Array.prototype, "polluted") &&
  !Object.hasOwn(Error.prototype, "polluted") &&
  Object.getPrototypeOf({}) === Object.prototype;

// ---------------------------------------------------------------------------------------------
// Walking a built value: its containers, and places to plant things
// ---------------------------------------------------------------------------------------------

type Container = unknown[] | Record<string, unknown> | Map<unknown, unknown> | Set<unknown> | Error;

/** Every object in the value, in first-visit order, and which of them can hold more things. */
function objectsOf(root: unknown): { all: object[]; containers: Container[] } {
  const all: object[] = [];
  const containers: Container[] = [];
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (typeof v !== "object" || v === null || seen.has(v)) return;
    seen.add(v);
    all.push(v);
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) return;
    containers.push(v as Container);
    if (v instanceof Map) {
      for (const [k, x] of v) {
        visit(k);
        visit(x);
      }
    } else if (v instanceof Set) {
      for (const x of v) visit(x);
    } else if (v instanceof Error) {
      for (const k of Object.keys(v)) visit((v as never)[k]);
      if ("cause" in v) visit(v.cause);
      if (v instanceof AggregateError) visit(v.errors);
    } else {
      for (const k of Object.keys(v)) visit((v as never)[k]);
    }
  };
  visit(root);
  return { all, containers };
}

/** Adds `child` to `container`; returns the path segment the encoder will print for it. */
function plant(container: Container, child: unknown, key: string): string {
  if (Array.isArray(container)) {
    container.push(child);
    return `[${container.length - 1}]`;
  }
  if (container instanceof Map) {
    const index = container.size;
    container.set({ fresh: index }, child); // a fresh key, so the entry lands last
    return `.<value ${index}>`;
  }
  if (container instanceof Set) {
    const index = container.size;
    container.add(child); // a planted child is always a new object or primitive absent from the Set
    return `.<item ${index}>`;
  }
  // plain object, class instance or error: a key not already present, so it lands last
  defineOwn(container, key, child);
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** The path of each container reachable from the root without cycles, in encoder notation. */
function pathsOf(root: unknown, rootName: string): Map<Container, string> {
  const paths = new Map<Container, string>();
  const seg = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : k.startsWith("<") ? `.${k}` : `[${JSON.stringify(k)}]`);
  const visit = (v: unknown, path: string): void => {
    if (typeof v !== "object" || v === null || paths.has(v as Container)) return;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) return;
    paths.set(v as Container, path);
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        visit(x, `${path}[${i}]`);
      });
    } else if (v instanceof Map) {
      let i = 0;
      for (const [k, x] of v) {
        visit(k, `${path}.<key ${i}>`);
        visit(x, `${path}.<value ${i}>`);
        i++;
      }
    } else if (v instanceof Set) {
      let i = 0;
      for (const x of v) visit(x, `${path}.<item ${i++}>`);
    } else if (v instanceof Error) {
      for (const k of Object.keys(v)) {
        if (k === "cause" || (k === "errors" && v instanceof AggregateError)) continue;
        visit((v as never)[k], path + seg(k));
      }
      if ("cause" in v) visit(v.cause, `${path}.cause`);
      if (v instanceof AggregateError) visit(v.errors, `${path}.errors`);
    } else {
      for (const k of Object.keys(v)) visit((v as never)[k], path + seg(k));
    }
  };
  visit(root, rootName);
  return paths;
}

const cbor = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe("codec properties", () => {
  it("round-trips every supported value", () => {
    fc.assert(
      fc.property(valueArb, valueArb, (build, other) => {
        const value = build();
        const bytes = encode(value);
        encode(other()); // a later encode must not disturb earlier bytes
        assertSame(value, decode(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it("keeps shared and cyclic references as the same objects", () => {
    const links = fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(valueArb, links, (build, pairs) => {
        const root: unknown[] = [build(), build()];
        const { all, containers } = objectsOf(root);
        pairs.forEach(([from, to], i) => {
          const container = containers[from % containers.length] as Container;
          plant(container, all[to % all.length], `link${i}`);
        });
        const decoded = decode(encode(root));
        assertSame(root, decoded);
      }),
      RUNS,
    );
  });

  it("decodes objects with prototype-ish keys without polluting anything", () => {
    const hostileKey = fc.constantFrom("__proto__", "constructor", "prototype", "polluted");
    const hostile = fc.letrec<{ tree: Build }>((tie) => ({
      tree: fc.oneof(
        { depthSize: "small", maxDepth: 4 },
        fc.constant<Build>(() => true),
        fc.array(fc.tuple(hostileKey, tie("tree")), { maxLength: 4 }).map((entries) => () => {
          const out = {};
          for (const [k, b] of entries) defineOwn(out, k, b());
          return out;
        }),
        fc.array(tie("tree"), { maxLength: 3 }).map((items) => () => items.map((b) => b())),
        fc.array(fc.tuple(hostileKey, tie("tree")), { maxLength: 2 }).map((entries) => () => {
          const err = new Error("e");
          for (const [k, b] of entries) defineOwn(err, k, b());
          return err;
        }),
      ),
    }));
    fc.assert(
      fc.property(hostile.tree.map(mk), hostile.tree.map(mk), (build, other) => {
        const value = { __proto__: null, polluted: true } as unknown as object; // a null-prototype object...
        defineOwn(value, "__proto__", build()); // ...with an own `__proto__` key
        const sent = [value, other()];
        const decoded = decode(encode(sent)) as unknown[];
        expect(pollutionFree()).toBe(true);
        assertSame(sent, decoded);
        expect(Object.hasOwn(decoded[0] as object, "__proto__")).toBe(true);
        for (const obj of objectsOf(decoded).all) {
          expect([Object.prototype, Array.prototype, Error.prototype]).toContain(Object.getPrototypeOf(obj));
        }
      }),
      RUNS,
    );
  });

  it("decodes hand-made trees with hostile keys without polluting anything", () => {
    const key = fc.constantFrom("__proto__", "constructor", "prototype", "polluted", "toString", "valueOf");
    const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
      tree: fc.oneof(
        { depthSize: "small", maxDepth: 4 },
        fc.constantFrom(true, 1, "x"),
        fc.array(fc.tuple(key, tie("tree")), { maxLength: 4 }).map((kv) => [2, ...kv.flat()]),
        fc.array(tie("tree"), { maxLength: 3 }).map((items) => [1, ...items]),
        fc
          .array(fc.tuple(key, tie("tree")), { maxLength: 3 })
          .map((kv) => [12, "Error", "m", undefined, kv.flat(), false, undefined, undefined]),
      ),
    }));
    fc.assert(
      fc.property(tree, (t) => {
        const decoded = decode(cbor.encode(t));
        expect(pollutionFree()).toBe(true);
        for (const obj of objectsOf(decoded).all) {
          expect([Object.prototype, Array.prototype, Error.prototype]).toContain(Object.getPrototypeOf(obj));
        }
      }),
      RUNS,
    );
  });

  it("rejects an unsupported value at any path with a SerializationError naming that path", () => {
    const bad = fc.constantFrom<[string, () => unknown, string]>(
      ["function", () => function named() {}, "function named"],
      ["arrow", () => () => 1, "function (anonymous)"],
      ["symbol", () => Symbol("s"), "Symbol(s)"],
      ["WeakMap", () => new WeakMap(), "WeakMap"],
      ["WeakSet", () => new WeakSet(), "WeakSet"],
      ["Promise", () => Promise.resolve(), "Promise"],
    );
    const plantKey = fc
      .oneof(
        fc.constantFrom("callback", "__proto__", "a b", "0", "ünïcode", "$x", "constructor"),
        fc.string({ minLength: 1, maxLength: 5 }),
      )
      .filter((k) => !k.startsWith("<") && k !== "name" && k !== "message" && k !== "stack" && k !== "errors");
    const root = fc.constantFrom("args", "value", "result", "error");
    fc.assert(
      fc.property(valueArb, bad, fc.nat(), plantKey, root, (build, [, makeBad, what], pick, key, rootName) => {
        const value = [build()];
        const paths = pathsOf(value, rootName);
        const candidates = [...paths.keys()];
        const container = candidates[pick % candidates.length] as Container;
        const path = (paths.get(container) as string) + plant(container, makeBad(), key);
        let error: unknown;
        try {
          encode(value, rootName);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(SerializationError);
        expect((error as Error).message).toBe(`cannot send ${path}: ${what} is not supported`);
      }),
      RUNS,
    );
  });

  it("decode either returns a value or throws DeserializationError, for any bytes", () => {
    const good = valueArb.map((b) => encode(b()));
    const mutated = fc
      .tuple(good, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
      .map(([bytes, edits]) => {
        const out = Uint8Array.from(bytes);
        for (const [at, byte] of edits) if (out.length > 0) out[at % out.length] = byte;
        return out;
      });
    const truncated = fc.tuple(good, fc.nat()).map(([bytes, n]) => bytes.subarray(0, n % (bytes.length + 1)));
    const trees = fc
      .letrec<{ t: unknown }>((tie) => ({
        t: fc.oneof(
          { depthSize: "small", maxDepth: 3 },
          fc.oneof(fc.integer({ min: -2, max: 15 }), fc.string({ maxLength: 3 }), fc.constantFrom(null, undefined, true, 0.5)),
          fc.uint8Array({ maxLength: 9 }),
          fc.array(tie("t"), { maxLength: 5 }),
          fc.tuple(fc.integer({ min: 0, max: 14 }), fc.array(tie("t"), { maxLength: 7 })).map(([tag, rest]) => [tag, ...rest]),
        ),
      }))
      .t.map((t) => cbor.encode(t) as Uint8Array);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), mutated, truncated, trees), (input) => {
        try {
          decode(input);
        } catch (e) {
          if (!(e instanceof DeserializationError)) throw new Error(`threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
        expect(pollutionFree()).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
