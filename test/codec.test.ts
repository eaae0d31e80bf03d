import { readFileSync } from "node:fs";
import { Encoder } from "cbor-x";
import { describe, expect, it } from "vitest";
import { decode, encode } from "../src/core/codec.js";
import { DeserializationError, InvalidError, SerializationError } from "../src/core/errors.js";

// biome-ignore lint/suspicious/noExplicitAny: tests poke at decoded values freely
type Any = any;

const roundTrip = (value: unknown): Any => decode(encode(value));

/** Writes a raw tree the way the codec does, to build payloads `encode` would never make. */
const raw = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });
const rawTree = (tree: unknown): Uint8Array => raw.encode(tree);

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

describe("encode/decode: primitives", () => {
  it("numbers at every CBOR width boundary, decoded by the scalar fast path or cbor-x alike", () => {
    const values = [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -24, -25, -256, -257, -65536, -65537];
    const more = [
      -(2 ** 32),
      -(2 ** 32) - 1,
      1.5,
      -1.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      5e-324,
      true,
      false,
      null,
      undefined,
    ];
    for (const value of [...values, ...more]) expect(Object.is(roundTrip(value), value)).toBe(true);
    // A scalar followed by stray bytes is not a scalar payload.
    expect(() => decode(new Uint8Array([0x01, 0x02]))).toThrow(DeserializationError);
    expect(() => decode(new Uint8Array([0x1a, 0, 0]))).toThrow(DeserializationError);
  });

  it("writes scalars and argument lists of them as standard CBOR in their shortest integer form", () => {
    const widths: [number, number][] = [
      [0, 1],
      [23, 1],
      [24, 2],
      [-25, 2],
      [255, 2],
      [256, 3],
      [65535, 3],
      [-65537, 5],
      [2 ** 32 - 1, 5],
      [2 ** 32, 9],
      [0.5, 9],
    ];
    for (const [value, bytes] of widths) {
      const encoded = encode(value);
      expect(encoded.byteLength, `${value}`).toBe(bytes);
      expect(raw.decode(encoded), `${value}`).toBe(value); // any CBOR reader agrees
    }
    const args = [1, -300, 2 ** 40, 0.25, true, null, undefined];
    expect(raw.decode(encode(args))).toEqual([1, ...args]); // [Tag.Array, ...items]
    expect(roundTrip(args)).toEqual(args);
  });

  it("keeps undefined, null and booleans", () => {
    expect(roundTrip(undefined)).toBeUndefined();
    expect(roundTrip(null)).toBeNull();
    expect(roundTrip(true)).toBe(true);
    expect(roundTrip(false)).toBe(false);
    expect(roundTrip([undefined, null])).toEqual([undefined, null]);
    const obj = roundTrip({ a: undefined });
    expect(Object.hasOwn(obj, "a")).toBe(true);
    expect(obj.a).toBeUndefined();
  });

  it("keeps numbers, including NaN, ±Infinity and -0", () => {
    const numbers = [
      0,
      -0,
      1,
      -1,
      0.1,
      1 / 3,
      255,
      256,
      65536,
      2 ** 31,
      2 ** 32,
      -(2 ** 32) - 1,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53 + 2,
      2 ** 64,
      1e300,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      Number.EPSILON,
      16777217,
      NaN,
      Infinity,
      -Infinity,
    ];
    const back = roundTrip(numbers);
    expect(back).toHaveLength(numbers.length);
    numbers.forEach((n, i) => {
      expect(Object.is(back[i], n), `index ${i}: ${n}`).toBe(true);
    });
  });

  it("keeps -0 as -0 at the root, in arrays, objects, Maps and Sets", () => {
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(Object.is(roundTrip(0), 0)).toBe(true);
    const back = roundTrip({ z: -0, list: [-0, 0], map: new Map([["k", -0]]) });
    expect(Object.is(back.z, -0)).toBe(true);
    expect(Object.is(back.list[0], -0)).toBe(true);
    expect(Object.is(back.list[1], 0)).toBe(true);
    expect(Object.is(back.map.get("k"), -0)).toBe(true);
  });

  it("keeps BigInt of any size and sign", () => {
    const values = [0n, 1n, -1n, 2n ** 64n, -(2n ** 64n), 2n ** 200n + 7n, -(10n ** 40n)];
    const back = roundTrip(values);
    expect(back).toEqual(values);
    for (const v of back) expect(typeof v).toBe("bigint");
  });

  it("keeps strings, including empty, unicode and astral", () => {
    const strings = ["", "hello", "héllo wörld", "日本語", "😀 emoji", "\u0000nul", "a".repeat(10_000)];
    expect(roundTrip(strings)).toEqual(strings);
  });

  it("keeps strings with lone surrogates unit for unit", () => {
    const strings = ["\uD800", "\uDFFF", "a\uD83Db", "\uDE00\uD83D", "ok\uD800", "😀\uDC00😀"];
    const back = roundTrip(strings);
    strings.forEach((s, i) => {
      expect(back[i]).toBe(s);
      expect(back[i].length).toBe(s.length);
    });
    // also as object keys' values and inside a Map
    const nested = roundTrip({ k: "\uD800", m: new Map([["\uDFFF", "\uD800x"]]) });
    expect(nested.k).toBe("\uD800");
    expect(nested.m.get("\uDFFF")).toBe("\uD800x");
  });

  it("keeps lone surrogates in object keys, error texts and RegExp sources", () => {
    const obj: Record<string, unknown> = { "k\uD800": 1, "\uDFFF": 2 };
    const back = roundTrip(obj);
    expect(Object.keys(back)).toEqual(["k\uD800", "\uDFFF"]);

    const err = Object.assign(new Error("m\uD800"), { "p\uDC00": true });
    err.name = "N\uDBFF";
    const backErr = roundTrip(err);
    expect(backErr.message).toBe("m\uD800");
    expect(backErr.name).toBe("N\uDBFF");
    expect(backErr.stack).toBe(err.stack);
    expect(Object.keys(backErr)).toEqual(["p\uDC00"]);

    // biome-ignore lint/complexity/useRegexLiterals: a literal would keep `\uD800` as escaped, well-formed text
    const re = new RegExp("a\uD800", "g");
    expect(roundTrip(re).source).toBe(re.source);
  });
});

describe("encode/decode: built-in objects", () => {
  it("keeps Date, including an invalid Date", () => {
    const d = new Date("2024-02-29T12:34:56.789Z");
    const back = roundTrip(d);
    expect(back).toBeInstanceOf(Date);
    expect(back.getTime()).toBe(d.getTime());
    const invalid = roundTrip(new Date(Number.NaN));
    expect(invalid).toBeInstanceOf(Date);
    expect(Number.isNaN(invalid.getTime())).toBe(true);
  });

  it("keeps RegExp source and flags", () => {
    for (const re of [/a+b/, /^x$/gim, /\d{2,}/suy, /(?<n>a)|b/d, /[😀]/u, /(?:)/]) {
      const back = roundTrip(re);
      expect(back).toBeInstanceOf(RegExp);
      expect(back.source).toBe(re.source);
      expect(back.flags).toBe(re.flags);
    }
  });

  it("keeps Map with any keys, in order", () => {
    const objKey = { id: 1 };
    const m = new Map<unknown, unknown>([
      ["a", 1],
      [2, "two"],
      [objKey, [1, 2]],
      [null, undefined],
      [NaN, "nan"],
    ]);
    const back = roundTrip(m);
    expect(back).toBeInstanceOf(Map);
    expect([...back.values()]).toEqual([1, "two", [1, 2], undefined, "nan"]);
    const keys = [...back.keys()];
    expect(keys[0]).toBe("a");
    expect(keys[1]).toBe(2);
    expect(keys[2]).toEqual({ id: 1 });
    expect(keys[3]).toBeNull();
    expect(back.get(NaN)).toBe("nan");
  });

  it("keeps Set, in order", () => {
    const s = new Set<unknown>([3, "x", { y: 1 }, null, 1n]);
    const back = roundTrip(s);
    expect(back).toBeInstanceOf(Set);
    expect([...back]).toEqual([3, "x", { y: 1 }, null, 1n]);
  });

  it("keeps arrays, nested arrays and empty containers", () => {
    const v = [[], {}, new Map(), new Set(), [[[1]]], ""];
    expect(roundTrip(v)).toEqual(v);
  });

  it("turns array holes into undefined without breaking length", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    const back = roundTrip([1, , 3]);
    expect(back).toHaveLength(3);
    expect(back[1]).toBeUndefined();
  });

  it("keeps plain objects with Object.prototype and key order", () => {
    const obj = { b: 1, a: { nested: [1, "x"] }, "key with spaces": true, "": "empty" };
    const back = roundTrip(obj);
    expect(back).toEqual(obj);
    expect(Object.keys(back)).toEqual(Object.keys(obj));
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it("turns null-prototype objects into plain objects", () => {
    const obj = Object.assign(Object.create(null), { a: 1 });
    const back = roundTrip(obj);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(back).toEqual({ a: 1 });
  });

  it("turns class instances into plain objects with their own enumerable properties", () => {
    class Point {
      readonly x: number;
      readonly y: number;
      #secret = 42;
      constructor(x: number, y: number) {
        this.x = x;
        this.y = y;
      }
      get sum(): number {
        return this.x + this.y + this.#secret;
      }
      norm(): number {
        return Math.hypot(this.x, this.y);
      }
    }
    const back = roundTrip({ p: new Point(3, 4) });
    expect(Object.getPrototypeOf(back.p)).toBe(Object.prototype);
    expect(back.p).toEqual({ x: 3, y: 4 });
    expect(back.p.norm).toBeUndefined();
    expect(back.p.sum).toBeUndefined();
  });
});

describe("encode/decode: binary data", () => {
  it("keeps Buffer as Buffer", () => {
    const buf = Buffer.from("hello, wörld");
    const back = roundTrip(buf);
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back.equals(buf)).toBe(true);
  });

  it("keeps Uint8Array as a plain Uint8Array, not a Buffer", () => {
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    const back = roundTrip(bytes);
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(back)).toBe(false);
    expect(Object.getPrototypeOf(back)).toBe(Uint8Array.prototype);
    expect([...back]).toEqual([0, 1, 2, 254, 255]);
  });

  it("keeps empty byte arrays", () => {
    expect(roundTrip(new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(Buffer.isBuffer(roundTrip(Buffer.alloc(0)))).toBe(true);
    expect(roundTrip(new ArrayBuffer(0)).byteLength).toBe(0);
  });

  it("keeps each typed array kind and its contents", () => {
    const arrays: ArrayBufferView[] = [
      new Int8Array([-128, 0, 127]),
      new Uint8ClampedArray([0, 128, 255]),
      new Int16Array([-32768, 1, 32767]),
      new Uint16Array([0, 65535]),
      new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]),
      new Uint32Array([0, 2 ** 32 - 1]),
      new Float32Array([1.5, -0, Number.NaN, Number.POSITIVE_INFINITY]),
      new Float64Array([Math.PI, -0, Number.NaN, Number.NEGATIVE_INFINITY]),
      new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]),
      new BigUint64Array([0n, 2n ** 64n - 1n]),
    ];
    for (const arr of arrays) {
      const back = roundTrip(arr) as Any;
      expect(Object.getPrototypeOf(back), arr.constructor.name).toBe(Object.getPrototypeOf(arr));
      expect(back.length).toBe((arr as Any).length);
      expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength)).toEqual(
        Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength),
      );
    }
    const f64 = roundTrip(new Float64Array([-0, Number.NaN]));
    expect(Object.is(f64[0], -0)).toBe(true);
    expect(Number.isNaN(f64[1])).toBe(true);
  });

  it("keeps DataView", () => {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setFloat64(0, Math.E);
    const back = roundTrip(dv);
    expect(back).toBeInstanceOf(DataView);
    expect(back.byteLength).toBe(8);
    expect(back.getFloat64(0)).toBe(Math.E);
  });

  it("keeps ArrayBuffer", () => {
    const ab = new Uint8Array([9, 8, 7]).buffer;
    const back = roundTrip(ab);
    expect(back).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(back)]).toEqual([9, 8, 7]);
  });

  it("sends only the viewed part of a typed array over a larger buffer", () => {
    const buffer = new ArrayBuffer(16);
    new Uint8Array(buffer).set([0, 0, 1, 0, 2, 0, 3, 0, 9, 9, 9, 9, 9, 9, 9, 9]);
    const view = new Uint16Array(buffer, 2, 3);
    const back = roundTrip(view);
    expect(back).toBeInstanceOf(Uint16Array);
    expect(back.byteOffset).toBe(0);
    expect(back.buffer.byteLength).toBe(6);
    expect([...back]).toEqual([...view]);
    const pooled = Buffer.from("abc"); // a view into Buffer's shared pool
    const backPooled = roundTrip(pooled);
    expect(backPooled.byteLength).toBe(3);
    expect(backPooled.toString()).toBe("abc");
  });

  it("decodes binary data into fresh memory that does not alias the payload", () => {
    const bytes = encode(new Uint8Array([1, 2, 3]));
    const back = decode(bytes) as Uint8Array;
    bytes.fill(0);
    expect([...back]).toEqual([1, 2, 3]);
  });
});

describe("encode/decode: errors", () => {
  it("keeps built-in error classes", () => {
    for (const Ctor of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
      const back = roundTrip(new Ctor("boom"));
      expect(Object.getPrototypeOf(back), Ctor.name).toBe(Ctor.prototype);
      expect(back.name).toBe(Ctor.name);
      expect(back.message).toBe("boom");
    }
  });

  it("keeps the stack", () => {
    const err = new TypeError("with stack");
    const back = roundTrip(err);
    expect(back.stack).toBe(err.stack);
    expect(back.stack).toContain("codec.test.ts");
  });

  it("keeps code and other own enumerable properties", () => {
    const err = Object.assign(new Error("disk"), {
      code: "ENOENT",
      errno: -2,
      path: "/nope",
      details: { tried: [1, 2], when: new Date(0) },
    });
    const back = roundTrip(err);
    expect(back.code).toBe("ENOENT");
    expect(back.errno).toBe(-2);
    expect(back.path).toBe("/nope");
    expect(back.details.tried).toEqual([1, 2]);
    expect(back.details.when).toEqual(new Date(0));
  });

  it("keeps a real Node system error's code", () => {
    const err = thrown(() => readFileSync("/definitely/not/here")) as NodeJS.ErrnoException;
    const back = roundTrip(err);
    expect(back.code).toBe("ENOENT");
    expect(back.syscall).toBe(err.syscall);
    expect(back.errno).toBe(err.errno);
    expect(back.message).toBe(err.message);
  });

  it("keeps the cause chain", () => {
    const root = new RangeError("root", { cause: { detail: "not an error" } });
    const mid = new TypeError("mid", { cause: root });
    const top = new Error("top", { cause: mid });
    const back = roundTrip(top);
    expect(back.message).toBe("top");
    expect(back.cause).toBeInstanceOf(TypeError);
    expect(back.cause.message).toBe("mid");
    expect(back.cause.cause).toBeInstanceOf(RangeError);
    expect(back.cause.cause.cause).toEqual({ detail: "not an error" });
    expect(Object.keys(back)).toEqual([]); // cause stays non-enumerable, like the original
  });

  it("keeps a cause that is explicitly undefined, and no cause when there was none", () => {
    expect("cause" in roundTrip(new Error("x", { cause: undefined }))).toBe(true);
    expect("cause" in roundTrip(new Error("x"))).toBe(false);
  });

  it("keeps a cyclic cause", () => {
    const err: Error = new Error("self");
    err.cause = err;
    const back = roundTrip(err);
    expect(back.cause).toBe(back);
  });

  it("keeps AggregateError and its errors", () => {
    const agg = new AggregateError([new TypeError("one"), new Error("two"), "not an error"], "many", {
      cause: "why",
    });
    const back = roundTrip(agg);
    expect(back).toBeInstanceOf(AggregateError);
    expect(back.message).toBe("many");
    expect(back.cause).toBe("why");
    expect(back.errors).toHaveLength(3);
    expect(back.errors[0]).toBeInstanceOf(TypeError);
    expect(back.errors[0].message).toBe("one");
    expect(back.errors[1].message).toBe("two");
    expect(back.errors[2]).toBe("not an error");
  });

  it("keeps an own enumerable `errors` property on an error that is not an AggregateError", () => {
    const err = Object.assign(new Error("validation failed"), { errors: [{ field: "name" }] });
    const back = roundTrip(err);
    expect(back.errors).toEqual([{ field: "name" }]);
  });

  it("keeps a custom error's name but arrives as Error", () => {
    class MyError extends Error {
      constructor(
        message: string,
        readonly retryable: boolean,
      ) {
        super(message);
        this.name = "MyError";
      }
    }
    const back = roundTrip(new MyError("custom", true));
    expect(back).toBeInstanceOf(Error);
    expect(Object.getPrototypeOf(back)).toBe(Error.prototype);
    expect(back.name).toBe("MyError");
    expect(back.message).toBe("custom");
    expect(back.retryable).toBe(true);
    expect(String(back)).toBe("MyError: custom");
  });

  it("keeps a name set on the prototype", () => {
    class ProtoNamed extends Error {}
    ProtoNamed.prototype.name = "ProtoNamed";
    expect(roundTrip(new ProtoNamed("p")).name).toBe("ProtoNamed");
  });

  it("keeps faasade's own error classes", () => {
    const back = roundTrip(new InvalidError("bad option", { cause: new Error("inner") }));
    expect(back).toBeInstanceOf(InvalidError);
    expect(back.name).toBe("InvalidError");
    expect(back.cause.message).toBe("inner");
  });

  it("keeps errors nested in other values", () => {
    const back = roundTrip({ results: [new URIError("u")], byKey: new Map([["e", new EvalError("e")]]) });
    expect(back.results[0]).toBeInstanceOf(URIError);
    expect(back.byKey.get("e")).toBeInstanceOf(EvalError);
  });
});

describe("encode/decode: shared and cyclic references", () => {
  it("keeps shared references as one object", () => {
    const shared = { n: 1 };
    const date = new Date(5);
    const bytes = new Uint8Array([1]);
    const back = roundTrip({ a: shared, b: shared, list: [shared, date, date, bytes, bytes] });
    expect(back.a).toBe(back.b);
    expect(back.list[0]).toBe(back.a);
    expect(back.list[1]).toBe(back.list[2]);
    expect(back.list[3]).toBe(back.list[4]);
  });

  it("keeps a self-referencing object and array", () => {
    const obj: Any = { name: "loop" };
    obj.self = obj;
    const back = roundTrip(obj);
    expect(back.self).toBe(back);

    const arr: Any[] = [1];
    arr.push(arr);
    const backArr = roundTrip(arr);
    expect(backArr[1]).toBe(backArr);
  });

  it("keeps cycles through Map keys, Map values and Sets", () => {
    const m = new Map<unknown, unknown>();
    const s = new Set<unknown>();
    const holder = { m, s };
    m.set(m, holder);
    m.set("set", s);
    s.add(s);
    s.add(holder);
    const back = roundTrip(holder);
    const bm = back.m as Map<unknown, unknown>;
    expect(bm.get(bm)).toBe(back);
    expect(bm.get("set")).toBe(back.s);
    expect(back.s.has(back.s)).toBe(true);
    expect(back.s.has(back)).toBe(true);
  });

  it("keeps an error that is referenced from its own properties", () => {
    const err: Any = new Error("e");
    const ctx = { err };
    err.ctx = ctx;
    const back = roundTrip([ctx, err]);
    expect(back[1]).toBe(back[0].err);
    expect(back[1].ctx).toBe(back[0]);
  });

  it("does not share identity between separately decoded values", () => {
    const shared = { n: 1 };
    const bytes = encode([shared, shared]);
    const a = decode(bytes) as Any[];
    const b = decode(bytes) as Any[];
    expect(a[0]).toBe(a[1]);
    expect(a[0]).not.toBe(b[0]);
  });

  it("keeps equal but distinct objects distinct", () => {
    const back = roundTrip([{ x: 1 }, { x: 1 }]);
    expect(back[0]).not.toBe(back[1]);
    expect(back[0]).toEqual(back[1]);
  });
});

describe("decoding never touches prototypes", () => {
  it("keeps `__proto__` as an own key and does not pollute Object.prototype", () => {
    const obj = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": 1}');
    expect(Object.hasOwn(obj, "__proto__")).toBe(true);
    const back = roundTrip(obj);
    expect(Object.hasOwn(back, "__proto__")).toBe(true);
    expect(Object.keys(back)).toEqual(["__proto__", "a"]);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toEqual({ polluted: "yes" });
    expect(back.polluted).toBeUndefined();
    expect(({} as Any).polluted).toBeUndefined();
  });

  it("keeps `constructor` and `prototype` as plain keys", () => {
    const obj = { constructor: { prototype: { polluted: "yes" } }, prototype: { polluted: "yes" } };
    const back = roundTrip(obj);
    expect(back).toEqual(obj);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(({} as Any).polluted).toBeUndefined();
  });

  it("keeps `__proto__` as an own property of an error", () => {
    const err = new Error("e");
    Object.defineProperty(err, "__proto__", { value: { polluted: "yes" }, enumerable: true });
    const back = roundTrip(err);
    expect(Object.getPrototypeOf(back)).toBe(Error.prototype);
    expect(Object.hasOwn(back, "__proto__")).toBe(true);
    expect(({} as Any).polluted).toBeUndefined();
    expect((Error.prototype as Any).polluted).toBeUndefined();
  });

  it("keeps a `__proto__` string as an ordinary Map key", () => {
    const back = roundTrip(new Map([["__proto__", { polluted: "yes" }]]));
    expect(back.get("__proto__")).toEqual({ polluted: "yes" });
    expect(({} as Any).polluted).toBeUndefined();
  });

  it("ignores hostile `__proto__` keys in a hand-made payload", () => {
    // [Object, "__proto__", [Object, "polluted", true]]
    const back = decode(rawTree([2, "__proto__", [2, "polluted", true]])) as Any;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, "__proto__")).toBe(true);
    expect(({} as Any).polluted).toBeUndefined();
  });

  it("refuses CBOR maps, tags and records that `encode` never writes", () => {
    expect(() => decode(rawTree(new Map([["__proto__", new Map([["polluted", true]])]])))).toThrow(DeserializationError);
    expect(() => decode(new Uint8Array([0xc1, 0x1a, 0, 0, 0, 1]))).toThrow(DeserializationError); // tag 1: a Date
    const records = new Encoder({ useRecords: true });
    const payload = records.encode([1, ...Array.from({ length: 5 }, (_, i) => ({ a: i, b: String(i) }))]);
    expect(() => decode(payload)).toThrow(DeserializationError);
    expect(({} as Any).polluted).toBeUndefined();
  });
});

describe("encode rejects values that cannot cross the wire", () => {
  it("names the path of a function inside the arguments", () => {
    const err = thrown(() => encode([1, { callback() {} }], "args"));
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.message).toContain("args[1].callback: function");
    expect(err.message).toBe("cannot send args[1].callback: function callback is not supported");
  });

  it("names anonymous functions and uses `value` as the default root", () => {
    const err = thrown(() =>
      encode({
        list: [
          0,
          1,
          2,
          (
            () => () =>
              1
          )(),
        ],
      }),
    );
    expect(err.message).toBe("cannot send value.list[3]: function (anonymous) is not supported");
  });

  it("rejects a symbol", () => {
    const err = thrown(() => encode({ s: Symbol("tag") }, "result"));
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.message).toBe("cannot send result.s: Symbol(tag) is not supported");
  });

  it("rejects WeakMap, WeakSet, WeakRef and Promise", () => {
    const cases: [unknown, string][] = [
      [new WeakMap(), "WeakMap"],
      [new WeakSet(), "WeakSet"],
      [new WeakRef({}), "WeakRef"],
      [Promise.resolve(1), "Promise"],
    ];
    for (const [bad, what] of cases) {
      const err = thrown(() => encode(["ok", { deep: { bad } }], "args"));
      expect(err).toBeInstanceOf(SerializationError);
      expect(err.message).toBe(`cannot send args[1].deep.bad: ${what} is not supported`);
    }
  });

  it("rejects an unsupported root value", () => {
    expect(thrown(() => encode(() => 1, "args")).message).toContain("cannot send args: function");
    expect(thrown(() => encode(Symbol.iterator)).message).toContain("cannot send value: Symbol(Symbol.iterator)");
  });

  it("names Map values and keys by entry index", () => {
    const value = new Map<unknown, unknown>([
      ["a", 1],
      ["b", () => 2],
    ]);
    expect(thrown(() => encode([value], "args")).message).toBe(
      "cannot send args[0].<value 1>: function (anonymous) is not supported",
    );
    const badKey = new Map<unknown, unknown>([[Symbol("k"), 1]]);
    expect(thrown(() => encode({ m: badKey }, "args")).message).toBe("cannot send args.m.<key 0>: Symbol(k) is not supported");
  });

  it("names Set items by index", () => {
    const value = new Set<unknown>([1, 2, new WeakSet()]);
    const err = thrown(() => encode({ tags: value }, "args"));
    expect(err).toBeInstanceOf(SerializationError);
    expect(err.message).toBe("cannot send args.tags.<item 2>: WeakSet is not supported");
  });

  it("quotes keys that are not identifiers", () => {
    expect(thrown(() => encode({ "a b": { "0": Promise.resolve() } }, "args")).message).toBe(
      'cannot send args["a b"]["0"]: Promise is not supported',
    );
  });

  it("names paths through error properties, causes and AggregateError errors", () => {
    const withProp = Object.assign(new Error("x"), { handler: () => 1 });
    expect(thrown(() => encode(withProp, "error")).message).toContain("error.handler: function");
    const withCause = new Error("x", { cause: { fn: Symbol("s") } });
    expect(thrown(() => encode(withCause, "error")).message).toContain("error.cause.fn: Symbol(s)");
    const agg = new AggregateError([new Error("ok"), Promise.resolve()], "agg");
    expect(thrown(() => encode(agg, "error")).message).toContain("error.errors[1]: Promise");
  });

  it("reports the first unsupported part, in encoding order", () => {
    const err = thrown(() => encode({ a: [1, Symbol("first")], b: () => 2 }, "args"));
    expect(err.message).toContain("args.a[1]: Symbol(first)");
  });

  it("rejects functions hidden in class instances", () => {
    class Holder {
      fn = () => 1;
    }
    expect(thrown(() => encode({ h: new Holder() }, "args")).message).toContain("args.h.fn: function fn");
  });
});

describe("decode rejects malformed bytes with DeserializationError", () => {
  it("rejects empty, truncated and garbage bytes", () => {
    const good = encode({ a: "hello world", b: [1, 2, 3] });
    const cases = [
      new Uint8Array(0),
      good.subarray(0, good.length - 3),
      new Uint8Array([0xff, 0xfe, 0x12, 0x99]),
      new Uint8Array([0x1c]), // reserved additional info
      new Uint8Array([1, 2, 3]), // trailing bytes after a complete item
      Uint8Array.from({ length: 64 }, (_, i) => (i * 73 + 41) % 256),
    ];
    for (const bytes of cases) {
      expect(() => decode(bytes), Buffer.from(bytes).toString("hex")).toThrow(DeserializationError);
    }
  });

  it("rejects a tree referencing a nonexistent ref", () => {
    expect(() => decode(rawTree([0, 0]))).toThrow(DeserializationError); // ref before any object
    expect(() => decode(rawTree([1, [2], [0, 5]]))).toThrow(DeserializationError);
    expect(() => decode(rawTree([1, [0, -1]]))).toThrow(DeserializationError);
    expect(() => decode(rawTree([1, [0, 0.5]]))).toThrow(DeserializationError);
    expect(() => decode(rawTree([1, [0, "0"]]))).toThrow(DeserializationError);
  });

  it("rejects unknown tags and bare byte strings", () => {
    expect(() => decode(rawTree([99]))).toThrow(DeserializationError);
    expect(() => decode(rawTree(new Uint8Array([1, 2])))).toThrow(DeserializationError);
    expect(() => decode(rawTree([10, 1, "not bytes"]))).toThrow(DeserializationError);
    expect(() => decode(rawTree([10, 42, new Uint8Array(4)]))).toThrow(DeserializationError);
  });

  it("rejects trees whose contents do not fit their tag", () => {
    const cases: unknown[] = [
      [4, "not a number"], // BigInt
      [6, "(", ""], // RegExp with an invalid source
      [6, "a", "zz"], // RegExp with invalid flags
      [10, 5, new Uint8Array(3)], // Int32Array from 3 bytes
      [12, "Error", "m", undefined, null, false], // error props not a list
    ];
    for (const tree of cases) {
      const err = thrown(() => decode(rawTree(tree)));
      expect(
        err,
        JSON.stringify(tree, (_k, v) => (v instanceof Uint8Array ? [...v] : v)),
      ).toBeInstanceOf(DeserializationError);
    }
  });

  it("accepts what encode produced after other encodes ran", () => {
    const first = encode({ first: [1, 2, 3] });
    for (let i = 0; i < 100; i++) encode({ other: "x".repeat(i * 10) });
    expect(decode(first)).toEqual({ first: [1, 2, 3] });
  });
});
