// Fuzzing the GCP runtime's request decoders (src/providers/gcp/runtime.ts, web-serve.ts) through
// the real functions-framework server on 127.0.0.1, in this process, so that body parsing is the
// framework's own; the store is the Cloud Storage test double and the queue the Cloud Tasks test
// double (src/testing/gcp/), through the real Google clients. Envelopes with fields missing, of
// the wrong type, prototype keys, huge strings and bad base64; bodies that are no JSON, or JSON of
// the wrong shape; bodies as the framework hands them (parsed JSON, text, bytes) and as another
// host might (an object, a string or a Buffer without the raw bytes); wrong methods, odd headers.
// Nothing escapes as an unhandled rejection or uncaught exception; a bad call is a 4xx naming what
// was wrong; a task that can never run is answered 200 "dropped" (Cloud Tasks would only deliver it
// again) and logged once; a good call still runs afterwards.
import { Agent, createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { http } from "@google-cloud/functions-framework";
import type { Request as FfRequest, Response as FfResponse } from "@google-cloud/functions-framework";
import fc from "fast-check";
import { decode } from "faasade";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { keysIn } from "../dist/src/cloud/keys.js";
import { gcpClients } from "../dist/src/providers/gcp/clients.js";
import { gcsStore } from "../dist/src/providers/gcp/gcs-store.js";
import type { Handlers } from "../dist/src/providers/gcp/runtime.js";
import { tasksQueue } from "../dist/src/providers/gcp/tasks-queue.js";
import { type StorageDouble, startStorageDouble } from "../dist/src/testing/gcp/storage-double.js";
import { type TasksDouble, startTasksDouble } from "../dist/src/testing/gcp/tasks-double.js";
import {
  type Answer,
  CONTENT_TYPE,
  FORMS,
  type Form,
  Huge,
  args,
  client,
  envelopes,
  hostile,
  mutated,
  mutations,
  namedBy,
  next,
  parsedOr,
} from "./fixtures/gcp-fuzz.js";

process.env.METADATA_SERVER_DETECTION = "none";
delete process.env.FAASADE_FUNCTION; // not a web deployment until the last block says so

const PROJECT = "fuzz-project";
const BUCKET = "faasade-fuzz";
const LOCATION = `projects/${PROJECT}/locations/us-central1`;
const QUEUE = `${LOCATION}/queues/fuzz`;
const STREAM = "application/x-ndjson";

let storage: StorageDouble;
let tasks: TasksDouble;
let sink: Server;
let server: Server;
let base = "";
let made: Handlers;
/** Bodies a host hands the handlers already read, by request (the `x-fuzz-body` header). */
const preparsed = new Map<string, unknown>();
/** What escaped while the properties ran: it must stay empty. */
const escaped: unknown[] = [];
const onEscape = (err: unknown) => void escaped.push(err);
const clients = () =>
  gcpClients({ project: PROJECT, endpoints: { storage: storage.url, tasks: tasks.url }, authClient: tasks.authClient });

beforeAll(async () => {
  process.on("unhandledRejection", onEscape);
  process.on("uncaughtException", onEscape);
  [storage, tasks] = await Promise.all([startStorageDouble({ project: PROJECT }), startTasksDouble()]);
  await (await clients().storage()).createBucket(BUCKET);
  await (await clients().tasks()).createQueue({ parent: LOCATION, queue: { name: QUEUE, retryConfig: { maxAttempts: 1 } } });
  // Where the queue's tasks go: a sink, so that a chained delay is not run again here.
  sink = createServer((req, res) => req.resume().on("end", () => res.end("ok")));
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`;
  const runtime = await import("../dist/src/providers/gcp/runtime.js");
  runtime.appModule(() => import("./fixtures/gcp-app.mjs"));
  const sdk = clients();
  made = runtime.handlers({
    store: (bucket) => gcsStore(sdk, bucket),
    queue: (name) => tasksQueue(sdk, { queuePath: name, targetUrl: sinkUrl }),
  });
  http("faasade-fuzz", route);
  const { getTestServer } = await import("@google-cloud/functions-framework/testing");
  server = getTestServer("faasade-fuzz");
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(async () => {
  process.off("unhandledRejection", onEscape);
  process.off("uncaughtException", onEscape);
  const closing = (s: Server | undefined) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  server?.closeAllConnections();
  await Promise.all([closing(server), closing(sink), storage?.close(), tasks?.close()]);
});

/** `/<entry>` to that handler; `/preparsed/<entry>` with `req.body` set to what the test left under `x-fuzz-body`, and no raw bytes. */
function route(req: FfRequest, res: FfResponse) {
  const [first = "", second = ""] = req.path.split("/").filter((p) => p !== "");
  if (first === "preparsed") {
    const id = req.get("x-fuzz-body") ?? "";
    req.body = preparsed.get(id);
    preparsed.delete(id);
    delete req.rawBody;
  }
  const entry = (first === "preparsed" ? second : first) as keyof Handlers;
  return made[entry](req, res);
}

const targets = { bucket: BUCKET, queue: QUEUE };
const { good, queued } = envelopes(targets);
const mutation = mutations(targets);
const form = fc.constantFrom(...FORMS);
const fnName = fc.constantFrom("square", "fail", "slowCount", "page", "tally", "nope", "");
const { send, post, onConnection } = client(() => base, preparsed);

const tally = new Map<string, number>();
const count = (what: string) => tally.set(what, (tally.get(what) ?? 0) + 1);
const stack = /\n\s+at \S/;

/** A 4xx of faasade's own: plain text, no stack, naming what was wrong. */
function expectNamedRefusal(r: Answer, named: RegExp, context: string): void {
  expect(r.status, context).toBe(400);
  expect(r.type, context).toMatch(/^text\/plain/);
  expect(r.text, context).not.toMatch(stack);
  expect(r.text, context).toMatch(named);
}
const context = (how: Form, body: string, r: Answer) => `${how} ${body.slice(0, 300)} -> ${r.status} ${r.text.slice(0, 300)}`;

/** An answer of a sync call: the outcome of its input. */
function expectOutcome(text: string, ctx: string): string {
  const w = JSON.parse(text);
  expect(w, ctx).toMatchObject({ v: 1, inputId: expect.any(String), attempt: expect.any(Number) });
  expect(["SUCCESS", "FAILURE", "INIT_FAILURE", "TIMEOUT"], ctx).toContain(w.status);
  return w.status;
}

let logged: string[] = [];
const quiet = () => {
  logged = [];
  return vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void logged.push(a.map(String).join(" ")));
};

describe("gcp runtime: fuzzed sync calls", { timeout: 120_000 }, () => {
  it("answer an outcome, or a 400 naming the field; never a 5xx, never a stack", async () => {
    const spy = quiet();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("handler", "invoke"),
          fnName,
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          form,
          async (entry, fn, changes, how) => {
            const body = mutated(good(fn), changes);
            const r = await post(entry, how, body);
            const ctx = context(how, body, r);
            expect(r.cut, ctx).toBeUndefined();
            if (r.status === 200) return void count(`invoke ${expectOutcome(r.text, ctx)}`);
            if (how === "untyped")
              expectNamedRefusal(r, /envelope: expected a faasade envelope \(an object\), got undefined/, ctx);
            else expectNamedRefusal(r, namedBy(changes), ctx);
            count("invoke refused");
          },
        ),
        {
          numRuns: 200,
          interruptAfterTimeLimit: 30_000,
          // Found by this property: a hostile `constructor` made the refusal itself throw (describe in core/errors.ts).
          examples: [
            ["invoke", "square", [{ kind: "set", field: "app", value: hostile[2] }], "json"],
            // Found by this property: a store error whose cause the codec cannot encode was a 500 (unreachable in cloud/wire.ts).
            ["invoke", "square", [{ kind: "set", field: "argsAt", value: new Huge("A", 2_000_000) }], "json"],
          ],
        },
      );
    } finally {
      spy.mockRestore();
    }
    expect(escaped).toEqual([]);
  });

  it("bodies that are no envelope at all (no JSON, or JSON of another shape) are refused by name", async () => {
    const body = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
      fc.constantFrom("", "{", "[1,", "\u0000", new Huge("x", 300_000), '{"v":1', "null", "[]", "{}"),
    );
    const spy = quiet();
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom("handler", "invoke", "stream"), body, form, async (entry, raw, how) => {
          const text = String(raw);
          const r = await post(entry, how, text, entry === "handler" && text.length % 2 ? { accept: STREAM } : {});
          const ctx = context(how, text, r);
          expect(r.cut, ctx).toBeUndefined();
          expect(r.status, ctx).toBeGreaterThanOrEqual(400);
          expect(r.status, ctx).toBeLessThan(500);
          if (r.type.startsWith("text/html")) {
            // functions-framework's JSON parser refused it before faasade saw it (strict: objects and arrays only).
            expect(how, ctx).toBe("json");
            return void count("no envelope: refused by functions-framework");
          }
          expectNamedRefusal(r, /^faasade: the request's (body \(\d+ characters\) is not JSON: |envelope[.:])/, ctx);
          count("no envelope: refused");
        }),
        { numRuns: 200, interruptAfterTimeLimit: 20_000 },
      );
    } finally {
      spy.mockRestore();
    }
    expect(escaped).toEqual([]);
  });

  it("a call whose arguments the store cannot give (an outage) answers a FAILURE outcome, never a 500", async () => {
    const e = { ...good("square"), args: "", argsAt: "payloads/fuzz-outage" };
    await gcsStore(clients(), BUCKET).put(e.argsAt, args([9]));
    storage.failNext(1_000, "unavailable", /objects\.download/);
    const spy = quiet();
    let r: Answer;
    try {
      r = await post("invoke", "json", JSON.stringify(e));
    } finally {
      spy.mockRestore();
      storage.clearFaults();
    }
    expect([r.status, r.text.slice(0, 300)]).toEqual([200, expect.stringContaining('"status":"FAILURE"')]);
    const again = await post("invoke", "json", JSON.stringify({ ...e, inputId: "in-fuzz-again" }));
    expect(decode(Buffer.from(JSON.parse(again.text).value, "base64"))).toBe(81);
    expect(escaped).toEqual([]);
  });

  it("any method but POST is a 405 that allows POST", async () => {
    const methods = fc.constantFrom("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "PURGE");
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("handler", "invoke", "stream"), methods, async (entry, method) => {
        const r = await send(`/${entry}`, { method, headers: { "content-type": "application/json" }, body: mutated(good(), []) });
        expect(r.status, `${entry} ${method}`).toBe(405);
        expect(r.allow).toBe("POST");
        if (method !== "HEAD") expect(r.text).toBe("faasade: calls are POSTed envelopes");
      }),
      { numRuns: 40, interruptAfterTimeLimit: 10_000 },
    );
    expect(escaped).toEqual([]);
  });
});

describe("gcp runtime: fuzzed streamed calls", { timeout: 120_000 }, () => {
  it("answer JSON lines ending with the outcome, or a 400 naming the field; never a cut stream", async () => {
    const spy = quiet();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("handler", "stream"),
          fc.constantFrom("slowCount", "square", "fail", "nope"),
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          form,
          async (entry, fn, changes, how) => {
            const body = mutated(good(fn, [1]), changes);
            const r = await post(entry, how, body, { accept: entry === "handler" ? `text/html, ${STREAM};q=0.9` : STREAM });
            const ctx = context(how, body, r);
            expect(r.cut, ctx).toBeUndefined();
            if (r.status !== 200) {
              if (how === "untyped") expectNamedRefusal(r, /envelope: expected a faasade envelope/, ctx);
              else expectNamedRefusal(r, namedBy(changes), ctx);
              return void count("stream refused");
            }
            expect(r.type, ctx).toMatch(/^application\/x-ndjson/);
            const lines = r.text.split("\n");
            expect(lines.pop(), ctx).toBe(""); // every line ends with a newline
            const last = JSON.parse(lines.pop() ?? "null");
            for (const line of lines) expect(JSON.parse(line), ctx).toEqual({ c: expect.any(String) });
            count(`stream ${expectOutcome(JSON.stringify(last?.o), ctx)}`);
          },
        ),
        {
          numRuns: 150,
          interruptAfterTimeLimit: 30_000,
          // Found by this property: arguments the store does not have cut the stream instead of ending it with a FAILURE.
          examples: [["stream", "slowCount", [{ kind: "set", field: "argsAt", value: "payloads/nothing-here" }], "json"]],
        },
      );
    } finally {
      spy.mockRestore();
    }
    expect(escaped).toEqual([]);
  });
});

/** An independent oracle of the plainest tasks that can never run: no JSON object, or without what a queued input must have. */
function neverRuns(body: string, how: Form): boolean {
  if (how === "untyped") return true; // no body reaches the handler
  const e = parsedOr(body) as Record<string, unknown>;
  if (typeof e !== "object" || e === null || Array.isArray(e)) return true;
  return e.v !== 1 || e.spawn === undefined || e.store === undefined || typeof e.args !== "string";
}

describe("gcp runtime: fuzzed Cloud Tasks deliveries", { timeout: 180_000 }, () => {
  it("a task that can never run is answered 200 'dropped' and logged once; any other is done or handed back", async () => {
    const body = fc.oneof(
      fc.tuple(fnName, fc.array(mutation, { maxLength: 2 })).map(([fn, m]) => mutated(queued(fn), m)),
      fc.string({ maxLength: 50 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? "null"),
      fc.constant(JSON.stringify(good())), // an envelope without its spawn target: never runs from a queue
    );
    const spy = quiet();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("handler", "task"),
          body,
          form,
          fc.string({ maxLength: 300, unit: fc.constantFrom(..."abcXYZ019-_ /.") }),
          async (entry, text, how, suffix) => {
            logged = [];
            const name = `t${next()}-${suffix}`.trim();
            // Sometimes also a streamed call's accept header: the task header decides.
            const streamed = suffix.length % 2 === 1 ? { accept: STREAM } : {};
            const r = await post(entry, how, text, {
              "x-cloudtasks-taskname": name,
              "x-cloudtasks-queuename": "fuzz",
              ...streamed,
            });
            const ctx = context(how, text, r);
            expect(r.cut, ctx).toBeUndefined();
            expect(r.text, ctx).not.toMatch(stack);
            const drops = logged.filter((l) =>
              l.startsWith(`faasade: dropped task ${name.slice(0, 200)}, which can never run: `),
            );
            if (r.type.startsWith("text/html")) {
              // functions-framework's JSON parser refused the body before faasade saw it; Cloud Tasks (max attempts 1) does not retry.
              expect([how, r.status], ctx).toEqual(["json", 400]);
              return void count("task refused by functions-framework");
            }
            if (neverRuns(text, how)) expect([r.status, r.text.slice(0, 9)], ctx).toEqual([200, "dropped: "]);
            if (r.text.startsWith("dropped: ")) {
              expect(r.text, ctx).toMatch(/^dropped: faasade: (the request's body|the task's envelope)/); // says why
              expect(drops, ctx).toHaveLength(1);
            } else expect(drops, ctx).toHaveLength(0);
            expect([200, 503], ctx).toContain(r.status);
            expect(r.text, ctx).toMatch(r.status === 200 ? /^(done|dropped: )/ : /^(not done|handed back): /);
            count(`task ${r.text.split(/[: ]/)[0]}`);
          },
        ),
        {
          numRuns: 150,
          interruptAfterTimeLimit: 45_000,
          examples: [["task", mutated(queued(), [{ kind: "set", field: "app", value: hostile[2] }]), "json", "hostile"]],
        },
      );
    } finally {
      spy.mockRestore();
    }
    expect(escaped).toEqual([]);
  });
});

describe("gcp runtime: after the fuzzing", { timeout: 60_000 }, () => {
  it("a good call, a good stream and a good task still run", async () => {
    const call = await post("handler", "json", JSON.stringify(good("square", [12])));
    expect(call.status).toBe(200);
    expect(decode(Buffer.from(JSON.parse(call.text).value, "base64"))).toBe(144);
    const streamed = await post("handler", "json", JSON.stringify(good("slowCount", [1])), { accept: STREAM });
    const lines = streamed.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.slice(0, 2).map((l) => decode(Buffer.from(l.c, "base64")))).toEqual([0, 1]);
    expect(lines[2]?.o?.status).toBe("SUCCESS");
    const e = queued("square", [7]);
    const task = await post("handler", "json", JSON.stringify(e), { "x-cloudtasks-taskname": "t-final" });
    expect([task.status, task.text]).toEqual([200, "done"]);
    const stored = await gcsStore(clients(), BUCKET).get(keysIn("").result(e.callId));
    const outcome = JSON.parse(Buffer.from(stored ?? new Uint8Array()).toString()).outcome;
    expect(decode(Buffer.from(outcome.value, "base64"))).toBe(49);
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(escaped).toEqual([]);
  });
});

describe("gcp runtime: a fuzzed web function's requests (the deployment's function is a web function)", {
  timeout: 120_000,
}, () => {
  beforeAll(() => {
    // Told once per instance: from here on every request to `handler` is a web request.
    Object.assign(process.env, { FAASADE_APP: "gcp-app", FAASADE_ENVIRONMENT: "main", FAASADE_FUNCTION: "page" });
  });

  it("every method, path, header and body reaches the function, and its answer comes back; never a 5xx", async () => {
    const token = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(..."abcdefxyz-_019!#$%&'*+.^`|~") });
    const value = fc.string({ maxLength: 40, unit: fc.constantFrom(..." abcXYZ019-_,;:=/\\\"'()<>@?[]{}\t") });
    const odd = fc.constantFrom(
      { "x-cloudtasks-taskname": "t-web" },
      { accept: STREAM },
      { "x-cloudtasks-taskname": "t-web", accept: STREAM },
      { "content-length-extra": "5" },
      { "transfer-encoding-x": "chunked" },
    );
    const headers = fc.tuple(fc.dictionary(token, value, { maxKeys: 4 }), fc.option(odd, { nil: undefined }));
    const webPath = fc.webPath().filter((p) => !p.includes("gap"));
    const body = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constant(JSON.stringify(queued())),
      fc.constant(new Huge("x", 300_000)),
    );
    const method = fc.constantFrom("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    const webForm = fc.constantFrom<Form>("text", "bytes", "urlencoded", "untyped", "json");
    const spy = quiet();
    try {
      await fc.assert(
        fc.asyncProperty(method, webPath, headers, body, webForm, async (m, p, [given, extra], raw, how) => {
          const text = String(raw);
          const type = CONTENT_TYPE[how];
          const sent = { ...given, ...extra, ...(type ? { "content-type": type } : {}) };
          // A connection of its own: one left unusable by a body never read is the next row's concern.
          const path = `/handler${p.startsWith("/") ? p : `/${p}`}`;
          const r = await onConnection(false, m, path, sent, m === "GET" || m === "HEAD" ? undefined : text);
          const ctx = `${m} ${p} ${JSON.stringify(sent)} ${text.slice(0, 200)} -> ${r.status} ${r.text.slice(0, 300)} ${r.cut ?? ""}`;
          expect(r.cut, ctx).toBeUndefined();
          if (r.type.startsWith("text/html")) {
            // functions-framework's JSON parser refused a body that is no JSON before the function saw it.
            expect([how, r.status], ctx).toEqual(["json", 400]);
            return void count("web refused by functions-framework");
          }
          if (m === "POST") {
            expect(r.status, ctx).toBe(201);
            expect(r.text, ctx).toBe(text.toUpperCase());
          } else {
            expect(r.status, ctx).toBe(200);
            if (m !== "HEAD") expect(r.text, ctx).toMatch(/^first \/handler.*\nsecond\n$/s);
          }
          count(`web ${r.status}`);
        }),
        { numRuns: 150, interruptAfterTimeLimit: 30_000 },
      );
    } finally {
      spy.mockRestore();
    }
    expect(escaped).toEqual([]);
    const r = await send("/handler/done", { method: "POST", headers: { "content-type": "text/plain" }, body: "ada" });
    expect([r.status, r.text]).toEqual([201, "ADA"]);
    console.log(`gcp runtime fuzz: ${[...tally].map(([k, v]) => `${k} ×${v}`).join(", ")}`);
  });

  it("a body the function never reads leaves the connection usable: the next request on it is answered", async () => {
    // One kept-alive connection, as a front end reuses its connections to an instance.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // No content type: functions-framework leaves the body unread.
      const first = await onConnection(agent, "PUT", "/handler/kept", {}, "x".repeat(300_000));
      expect(first).toMatchObject({ status: 200, text: "first /handler/kept\nsecond\n" });
      const next = await onConnection(agent, "GET", "/handler/kept");
      expect(next).toMatchObject({ status: 200, text: "first /handler/kept\nsecond\n" });
      expect(next.ms).toBeLessThan(4_000); // not held until the server's keep-alive timeout cuts it
    } finally {
      agent.destroy();
    }
    expect(escaped).toEqual([]);
  });
});
