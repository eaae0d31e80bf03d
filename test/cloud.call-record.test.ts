// A spawned call's record as the cloud runtimes rewrite it (src/cloud/consumer.ts): a retry's record and
// the result's copy keep the spawn's time, which the envelope carries, so that a process that did not
// make the call (a dashboard's) still knows when it was spawned.
import { describe, expect, it } from "vitest";
import { consume } from "../dist/src/cloud/consumer.js";
import { keysIn } from "../dist/src/cloud/keys.js";
import type { ObjectStore } from "../dist/src/cloud/primitives.js";
import { type CallRecordJson, type Envelope, checkEnvelope, recordOf } from "../dist/src/cloud/wire.js";
import "./fixtures/aws-app.mjs";
import { testEnvelope } from "./fixtures/envelope.js";
import { memoryQueue, memoryStore } from "./fixtures/gcp-doubles.mjs";

const SPAWNED_AT = Date.parse("2026-11-30T12:00:00Z");
const keys = keysIn("apps/a/");

const envelope = (over: Partial<Envelope> = {}): Envelope =>
  testEnvelope("aws-app", "flaky", [1], {
    inputId: "in-record-1",
    callId: "fc-record-1",
    spawn: { queue: "q", retentionMs: 60_000, createdAt: SPAWNED_AT },
    ...over,
  });

const stored = <T>(store: ReturnType<typeof memoryStore>, key: string): T => {
  const bytes = store.objects.get(key);
  if (bytes === undefined) throw new Error(`nothing stored at ${key}`);
  return JSON.parse(Buffer.from(bytes).toString()) as T;
};

describe("a cloud call's record", () => {
  it("a retry's rewritten record and the result's copy keep the spawn's createdAt", async () => {
    const store = memoryStore();
    const queue = memoryQueue();
    const deps = { store: () => store as ObjectStore, queue: () => queue };
    await consume(checkEnvelope(JSON.parse(JSON.stringify(envelope()))), deps, "task-1");
    // The first attempt failed: the next is queued and the record rewritten for it.
    expect(stored<CallRecordJson>(store, keys.call("fc-record-1")).createdAt).toBe(SPAWNED_AT);
    const next = checkEnvelope(JSON.parse(String(queue.sent[0]?.body)));
    expect(next).toMatchObject({ attempt: 2, spawn: { createdAt: SPAWNED_AT } });
    await consume(next, deps, "task-2");
    const result = stored<{ outcome: { status: string }; call: CallRecordJson }>(store, keys.result("fc-record-1"));
    expect(result.outcome.status).toBe("SUCCESS");
    expect(result.call.createdAt).toBe(SPAWNED_AT);
  });

  it("a record read back from a queued message says when it was spawned", () => {
    expect(recordOf(envelope()).createdAt).toBe(SPAWNED_AT);
    // Messages of versions that did not send it: no time rather than a wrong one.
    expect(recordOf(envelope({ spawn: { queue: "q", retentionMs: 60_000 } })).createdAt).toBeUndefined();
  });

  it("an envelope's spawn.createdAt must be a time in ms; the error names the field and the value", () => {
    for (const createdAt of ["yesterday", Number.NaN, Number.POSITIVE_INFINITY]) {
      const bad = { ...envelope(), spawn: { queue: "q", retentionMs: 60_000, createdAt } };
      expect(() => checkEnvelope(bad)).toThrow(/envelope\.spawn\.createdAt: expected a/);
    }
  });
});
