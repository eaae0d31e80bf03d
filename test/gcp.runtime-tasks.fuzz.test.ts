// Fuzzing the GCP runtime's Cloud Tasks deliveries and a web function's requests through the real
// functions-framework server on 127.0.0.1 (test/fixtures/gcp-fuzz-server.ts). A task that can
// never run is answered 200 "dropped" (Cloud Tasks would only deliver it again) and logged once;
// any other is done or handed back; a web function answers every method, path, header and body,
// and a body it leaves unread does not hold its connection. Nothing escapes as an unhandled
// rejection or uncaught exception. Sync and streamed calls: gcp.runtime.fuzz.test.ts.
import { Agent } from "node:http";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { CONTENT_TYPE, type Form, Huge, hostile, mutated, next, parsedOr } from "./fixtures/gcp-fuzz.js";

import {
  STREAM,
  context,
  count,
  escaped,
  fnName,
  form,
  good,
  logged,
  mutation,
  onConnection,
  post,
  queued,
  quiet,
  send,
  stack,
  tally,
} from "./fixtures/gcp-fuzz-server.js";

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
            logged.length = 0;
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
