// Fuzzing the local deployment's HTTP API with whatever a client could send: random methods,
// paths, query strings and headers; bodies of random bytes, truncated or mistyped CBOR,
// prototype keys, nesting 100 000 deep (CBOR and JSON), huge arrays, oversized bodies. Each
// request gets an answer (never a 5xx, never a dropped connection without one), every refusal
// says what was wrong, memory stays bounded, and afterwards the server still runs real calls.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Encoder } from "cbor-x";
import {
  type Deployment,
  type RawAnswer,
  errorOf,
  rawRequest,
  requestBytes,
  startDeployment,
} from "./fixtures/deploy-harness.js";

let d: Deployment;
beforeAll(async () => {
  d = await startDeployment({ maxBodyBytes: 1024 * 1024 });
});
afterAll(() => d?.close());

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
const DEPTH = 100_000;
const WORDS = ["v1", "health", "apps", "fn", "main", "hardening-app", "square", "fails", "echo", "secret", "run", "spawn"];
const MORE = ["abort", "stats", "autoscaler", "calls", "cancel", "chunks", "graph", "web", "fc-1", "in-1", "..", ".", ""];
const FIELDS = ["inputs", "input", "inputId", "callId", "attempt", "args", "parentInputId", "inputIds", "terminateContainers"];
const PROTO = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"];

const segment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...WORDS, ...MORE) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 8 }).map(encodeURIComponent) },
  fc.constantFrom("%", "%zz", "%E0%A4%A", "%00%ff", "%C0%AF", "%2F", "%25"),
  fc.integer({ min: 200, max: 3000 }).map((n) => "a".repeat(n)),
);
const query = fc.oneof(
  fc.constant(""),
  fc.constantFrom("?waitMs=100", "?waitMs=-1", "?waitMs=1e309", "?from=NaN", "?from=-5", "?%", "?waitMs=%zz"),
  fc.string({ maxLength: 20 }).map((q) => `?${encodeURIComponent(q)}=${encodeURIComponent(q)}`),
);
const path = fc
  .tuple(fc.boolean(), fc.array(segment, { maxLength: 6 }), query)
  .map(([v1, parts, q]) => `/${v1 ? "v1/" : ""}${parts.join("/")}${q}`)
  .filter((p) => !/^\/v1\/apps\/main\/hardening-app(\?|$)/.test(p)); // a DELETE there is a valid destroy
/** The routes that read a body or a query, where a bad one must be refused by name. */
const route = fc.oneof(
  fc.constantFrom(
    ["POST", "/v1/apps"],
    ["GET", "/v1/apps"],
    ["POST", "/v1/calls/fc-1/cancel"],
    ["GET", "/v1/calls/fc-1/chunks?from=x&waitMs=10"],
    ["POST", "/web/main/hardening-app/echo"],
    ["GET", "/web/main/hardening-app/secret"],
    ["POST", "/web/main/hardening-app/square"],
  ),
  fc
    .tuple(
      fc.constantFrom("square", "fails", "echo", "nope"),
      fc.constantFrom(
        ["POST", "run"],
        ["POST", "spawn"],
        ["POST", "abort"],
        ["POST", "autoscaler"],
        ["GET", "stats"],
        ["GET", ""],
      ),
    )
    .map(([fn, [m, action]]) => [m, `/v1/fn/main/hardening-app/${fn}${action ? `/${action}` : ""}`]),
) as fc.Arbitrary<[string, string]>;
const method = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD") },
  fc.stringMatching(/^[A-Z]{1,10}$/),
);

/** A value of a field the routes read, of any type but the right one. */
const wrongValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.uint8Array({ maxLength: 16 }),
  fc.constantFrom(null, -1, 0, 1.5, 2 ** 53, "", "x".repeat(100_000), [], {}),
);
/** Objects whose keys include the routes' fields and the ones that could reach a prototype: CBOR maps, so `__proto__` is a real key. */
const objectBody = fc
  .array(fc.tuple(fc.constantFrom(...FIELDS, ...PROTO), wrongValue), { maxLength: 6 })
  .map((entries) => new Map<string, unknown>(entries));
const inputLike = fc.record({
  inputId: fc.oneof(fc.constant("in-1"), fc.string({ maxLength: 30 })),
  callId: fc.oneof(fc.constant("fc-1"), wrongValue),
  attempt: fc.oneof(fc.constant(1), wrongValue),
  args: fc.oneof(fc.uint8Array({ maxLength: 32 }), wrongValue),
});

const deepArrays = () => {
  const b = Buffer.alloc(DEPTH + 1, 0x81);
  b[DEPTH] = 0x01;
  return b;
};
const deepMaps = () => {
  const b = Buffer.alloc(DEPTH * 2 + 1);
  for (let i = 0; i < DEPTH; i++) b.set([0xa1, 0x61 + (i % 3)], i * 2); // { "a": { "b": ...
  b[DEPTH * 2] = 0x01;
  return b;
};
const deepJson = () => Buffer.from(`${"[".repeat(DEPTH)}1${"]".repeat(DEPTH)}`);

const body = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)) },
  { weight: 3, arbitrary: objectBody.map((m) => cbor.encode(m) as Buffer) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? "null")) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => cbor.encode(v) as Buffer) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.array(inputLike, { maxLength: 3 }), fc.nat(), fc.boolean(), fc.boolean())
      .map(([inputs, cutAt, cut, many]) => {
        const whole = cbor.encode(many ? { inputs } : { input: inputs[0] }) as Buffer;
        return cut ? whole.subarray(0, cutAt % Math.max(1, whole.length)) : whole; // truncated mid-document
      }),
  },
  fc.constantFrom("deep-arrays", "deep-maps", "deep-json", "huge-array", "huge-text", "over-1MiB").map((kind) => {
    if (kind === "deep-arrays") return deepArrays();
    if (kind === "deep-maps") return deepMaps();
    if (kind === "deep-json") return deepJson();
    if (kind === "huge-array") return cbor.encode({ inputs: new Array(200_000).fill(0) }) as Buffer;
    if (kind === "huge-text") return cbor.encode({ input: "x".repeat(4 * 1024 * 1024) }) as Buffer;
    return Buffer.alloc(1024 * 1024 + 10, 0x41);
  }),
);
const headers = fc.record({
  token: fc.oneof({ weight: 5, arbitrary: fc.constant("good") }, fc.constantFrom("none", "wrong", "bearer-only")),
  type: fc.constantFrom("application/cbor", "application/json", "text/plain", "", "multipart/form-data; boundary=x"),
  extra: fc.dictionary(
    fc.stringMatching(/^x-[a-z]{1,10}$/),
    fc.string({ maxLength: 40 }).filter((v) => !/[\r\n\0]/.test(v)),
    {
      maxKeys: 3,
    },
  ),
});

const authFor = (kind: string): Record<string, string> =>
  kind === "good"
    ? { authorization: `Bearer ${d.token()}` }
    : kind === "wrong"
      ? { authorization: `Bearer ${"0".repeat(64)}` }
      : kind === "bearer-only"
        ? { authorization: "Bearer " }
        : {};

/** A refusal must say what was wrong: node's own (a request it could not parse) has no body, every faasade one does. */
async function expectExplained(answer: RawAnswer): Promise<void> {
  if (!/\r\ncontent-type:/i.test(answer.head)) return;
  expect((await errorOf(answer)).length).toBeGreaterThan(0);
}

const STATS = { requests: 0, byStatus: new Map<number, number>() };
const tally = (status: number) => {
  STATS.requests++;
  STATS.byStatus.set(status, (STATS.byStatus.get(status) ?? 0) + 1);
};

describe("the local deployment's HTTP API under fuzzed requests", () => {
  it("answers every request with a 2xx/4xx that says what was wrong, and keeps running calls", async () => {
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    await fc.assert(
      fc.asyncProperty(method, path, body, headers, async (m, p, b, h) => {
        const send = m === "GET" || m === "HEAD" || m === "DELETE" ? (b.length % 3 === 0 ? b : Buffer.alloc(0)) : b;
        const all = { ...authFor(h.token), ...(h.type ? { "content-type": h.type } : {}), ...h.extra };
        const answer = await rawRequest(d.port, requestBytes(m, p, { headers: all, body: send }));
        tally(answer.status);
        expect(
          answer.status,
          `${m} ${p.slice(0, 120)} (${send.length} bytes) answered ${answer.head.slice(0, 200)}`,
        ).toBeGreaterThanOrEqual(200);
        expect(answer.status, `${m} ${p.slice(0, 120)}: ${answer.body.toString().slice(0, 300)}`).toBeLessThan(500);
        if (answer.status >= 400 && m !== "HEAD") await expectExplained(answer); // a HEAD answer has no body
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }),
      { numRuns: 400, interruptAfterTimeLimit: 20_000 },
    );
    expect(STATS.requests).toBeGreaterThan(100);
    console.log(
      `fuzzed ${STATS.requests} requests: ${[...STATS.byStatus].map(([s, n]) => `${s}×${n}`).join(" ")}; rss ${(rssBefore / 2 ** 20).toFixed(0)} → peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(rssPeak - rssBefore).toBeLessThan(512 * 2 ** 20);
    const health = await rawRequest(d.port, requestBytes("GET", "/v1/health", { headers: authFor("good") }));
    expect(health.status).toBe(200);
    expect(await d.square.remote(9)).toBe(81);
  }, 60_000);

  it("refuses bad bodies on every route that reads one by saying what was wrong", async () => {
    await fc.assert(
      fc.asyncProperty(route, body, async ([m, p], b) => {
        const answer = await rawRequest(d.port, requestBytes(m, p, { headers: authFor("good"), body: b }));
        tally(answer.status);
        expect(answer.status, `${m} ${p}: ${answer.body.toString().slice(0, 300)}`).toBeGreaterThanOrEqual(200);
        expect(answer.status, `${m} ${p}: ${answer.body.toString().slice(0, 300)}`).toBeLessThan(500);
        if (answer.status >= 400) await expectExplained(answer);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 15_000 },
    );
    expect(await d.square.remote(4)).toBe(16);
  }, 40_000);

  it("random bytes as a whole request are refused by the HTTP parser, and the server runs on", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        const answer = await rawRequest(d.port, Buffer.concat([Buffer.from(bytes), Buffer.from("\r\n\r\n")]));
        tally(answer.status);
        expect([0, 400, 431, 505]).toContain(answer.status);
      }),
      { numRuns: 150, interruptAfterTimeLimit: 8_000 },
    );
    expect(await d.square.remote(3)).toBe(9);
    console.log(`all fuzzed requests so far: ${STATS.requests}: ${[...STATS.byStatus].map(([s, n]) => `${s}×${n}`).join(" ")}`);
  }, 30_000);
});
