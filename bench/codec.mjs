// Codec micro-benchmark and behaviour check: faasade's codec against cbor-x, v8.serialize, devalue and JSON.
//
//   npx tsc -p tsconfig.build.json && node bench/codec.mjs
//
// Prints, for each value, the time of one encode + decode (µs per value: after a warm-up, the median
// of 7 rounds of at least 100 ms each, rounds interleaved across codecs) and the encoded size, then a
// table of what each library keeps or refuses ("kept" for an error means: an Error comes back, with
// that part intact). JSON and devalue are timed string to string (no UTF-8 step).
// docs/codec.md quotes runs of this script.
import { readFileSync } from "node:fs";
import os from "node:os";
import { isDeepStrictEqual } from "node:util";
import v8 from "node:v8";
import * as cborx from "cbor-x";
import * as devalue from "devalue";
import { decode, encode } from "../dist/src/core/codec.js";

const codecs = {
  faasade: { encode: (v) => encode(v), decode: (b) => decode(b), size: (b) => b.byteLength },
  "cbor-x (plain)": { encode: (v) => cborx.encode(v), decode: (b) => cborx.decode(b), size: (b) => b.byteLength },
  "v8.serialize": { encode: (v) => v8.serialize(v), decode: (b) => v8.deserialize(b), size: (b) => b.byteLength },
  devalue: { encode: (v) => devalue.stringify(v), decode: (s) => devalue.parse(s), size: (s) => Buffer.byteLength(s) },
  JSON: { encode: (v) => JSON.stringify(v), decode: (s) => JSON.parse(s), size: (s) => Buffer.byteLength(s) },
};

const values = {
  "small number array": [0, 1, -1, 42, 3.14, 0.0025, 1e9, 255, 65536, -7],
  "typical object": {
    id: "c0a8012e-7f3b-4e2a-9d1b-5b6f0e2a9c41",
    name: "Ada Lovelace",
    email: "ada@example.com",
    age: 36,
    active: true,
    roles: ["admin", "editor"],
    score: 98.5,
    address: { street: "12 St James's Square", city: "London", zip: "SW1Y 4JH" },
    createdAt: "2024-05-01T12:00:00.000Z",
    flags: { beta: true, plan: "pro" },
  },
  "rich object (Date, BigInt, Map, Set, bytes)": {
    when: new Date(1714564800000),
    big: 2n ** 70n,
    byId: new Map([
      ["a", 1],
      ["b", 2],
    ]),
    tags: new Set(["x", "y"]),
    bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
  },
};

let sink;
const ROUNDS = 7;

/** µs per encode + decode over one round of at least 100 ms. */
function oneRound(codec, value) {
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  do {
    for (let i = 0; i < 1000; i++) sink = codec.decode(codec.encode(value));
    n += 1000;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < 100_000_000n);
  return Number(elapsed) / 1000 / n;
}

/**
 * Every (codec, value) pair: a 300 ms warm-up, then ROUNDS rounds, interleaved (round 1 of every pair,
 * then round 2, ...) so that a burst of load on a shared machine hits all codecs alike.
 */
function measureAll(pairs) {
  for (const { codec, value } of pairs) {
    const until = performance.now() + 300;
    while (performance.now() < until) for (let i = 0; i < 1000; i++) sink = codec.decode(codec.encode(value));
  }
  for (let r = 0; r < ROUNDS; r++) for (const pair of pairs) (pair.rounds ??= []).push(oneRound(pair.codec, pair.value));
  for (const pair of pairs) {
    const sorted = [...pair.rounds].sort((a, b) => a - b);
    pair.time = { median: sorted[ROUNDS >> 1], min: sorted[0], max: sorted[ROUNDS - 1] };
  }
}

function attempt(codec, value) {
  try {
    return { ok: true, value: codec.decode(codec.encode(value)) };
  } catch (err) {
    return { ok: false, error: `${err.constructor.name}: ${err.message.split("\n")[0]}` };
  }
}

console.log(`Node ${process.version}, ${os.cpus()[0]?.model ?? "?"} × ${os.cpus().length}, ${os.platform()} ${os.arch()}`);
const versionOf = (pkg) =>
  JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), "utf8")).version;
console.log(`cbor-x ${versionOf("cbor-x")}, devalue ${versionOf("devalue")}`);
console.log();

// --- speed ----------------------------------------------------------------------------------
const header = ["codec", ...Object.keys(values).flatMap((k) => [`${k} µs`, "bytes"])];
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
const pairs = [];
for (const [name, codec] of Object.entries(codecs)) {
  for (const [label, value] of Object.entries(values)) {
    const back = attempt(codec, value);
    const fits = back.ok && isDeepStrictEqual(back.value, value);
    pairs.push({ name, label, codec, value, fits, why: back.ok ? "n/a (not equal)" : "n/a (throws)" });
  }
}
measureAll(pairs.filter((p) => p.fits));
for (const name of Object.keys(codecs)) {
  const cells = [name];
  for (const p of pairs.filter((x) => x.name === name)) {
    if (!p.fits) cells.push(p.why, "");
    else
      cells.push(
        `${p.time.median.toFixed(2)} (${p.time.min.toFixed(2)}–${p.time.max.toFixed(2)})`,
        String(p.codec.size(p.codec.encode(p.value))),
      );
  }
  console.log(`| ${cells.join(" | ")} |`);
}
console.log();

// --- behaviour ------------------------------------------------------------------------------
class Point {
  constructor(x, y) {
    this.x = x;
    this.y = y;
  }
}
const protoKey = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
const errWithCode = Object.assign(new TypeError("disk"), { code: "ENOENT", path: "/x" });
const customName = Object.assign(new Error("m"), { name: "MyError" });
const aggregate = new AggregateError([new Error("one"), new Error("two")], "many");
const cyclic = { name: "loop" };
cyclic.self = cyclic;

const checks = [
  ["-0 stays -0", -0, (d) => Object.is(d, -0)],
  ["`__proto__` key stays an own key", protoKey, (d) => Object.hasOwn(d, "__proto__") && Object.keys(d).join() === "__proto__,a"],
  ["class instance (arrives as plain object)", { p: new Point(1, 2) }, (d) => d.p.x === 1 && d.p.y === 2],
  ["lone surrogate string", "a\uD800b", (d) => d === "a\uD800b"],
  ["cyclic object", cyclic, (d) => d.self === d],
  ["BigInt", 2n ** 70n, (d) => d === 2n ** 70n],
  ["Buffer stays Buffer", Buffer.from("hi"), (d) => Buffer.isBuffer(d)],
  ["Uint8Array stays a plain Uint8Array", new Uint8Array([1]), (d) => Object.getPrototypeOf(d) === Uint8Array.prototype],
  ["TypeError keeps its class", new TypeError("t"), (d) => Object.getPrototypeOf(d) === TypeError.prototype],
  ["error `code` / own properties", errWithCode, (d) => d instanceof Error && d.code === "ENOENT" && d.path === "/x"],
  ["custom error name", customName, (d) => d instanceof Error && d.name === "MyError"],
  ["AggregateError `errors`", aggregate, (d) => d instanceof Error && Array.isArray(d.errors) && d.errors.length === 2],
  ["error stack", errWithCode, (d) => d instanceof Error && d.stack === errWithCode.stack],
];
const names = Object.keys(codecs);
console.log(`| value | ${names.join(" | ")} |`);
console.log(`|---|${names.map(() => "---").join("|")}|`);
for (const [label, value, keeps] of checks) {
  const cells = names.map((name) => {
    const back = attempt(codecs[name], value);
    if (!back.ok) return `throws (${back.error.slice(0, 60)})`;
    let ok = false;
    try {
      ok = keeps(back.value);
    } catch {}
    return ok ? "kept" : "lost";
  });
  console.log(`| ${label} | ${cells.join(" | ")} |`);
}
console.log();
console.log("cbor-x plain, `__proto__` key comes back as:", JSON.stringify(Object.keys(cborx.decode(cborx.encode(protoKey)))));
console.log("Object.prototype polluted afterwards:", {}.polluted !== undefined);
void sink;
