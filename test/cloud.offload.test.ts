// Offloaded arguments (src/cloud/offload.ts) as a runtime receives them: an envelope may point only at a
// payload key, and a payload that is gone fails its call at once instead of being delivered until poisoned.
import { ProviderError, decode } from "faasade";
import { describe, expect, it } from "vitest";
import { consume } from "../dist/src/cloud/consumer.js";
import { keysIn } from "../dist/src/cloud/keys.js";
import { offloadArgs } from "../dist/src/cloud/offload.js";
import type { ObjectStore } from "../dist/src/cloud/primitives.js";
import { type Envelope, checkEnvelope, fromWire } from "../dist/src/cloud/wire.js";
import { testEnvelope } from "./fixtures/envelope.js";
import "./fixtures/gcp-app.mjs";
import { memoryQueue, memoryStore } from "./fixtures/gcp-doubles.mjs";

const envelope = (over: Partial<Envelope> = {}): Envelope =>
  testEnvelope("gcp-app", "square", [7], { inputId: "in-offload-1", callId: "fc-offload-1", ...over });

/** The outcome the consumer stored for a call. */
function resultOf(store: ReturnType<typeof memoryStore>, callId: string) {
  const bytes = store.objects.get(keysIn("apps/a/").result(callId));
  if (bytes === undefined) throw new Error(`no result was stored for ${callId}`);
  return fromWire(JSON.parse(Buffer.from(bytes).toString()).outcome);
}

describe("offloaded arguments", () => {
  it("an envelope's argsAt must be a payload key under its store's prefix; the error names the field and the value", () => {
    for (const argsAt of ["g{ ", "apps/a/results/fc-1.json", "payloads/in-1-1-args", "apps/a/payloads/../secret", 7]) {
      expect(() => checkEnvelope({ ...envelope(), args: "", argsAt })).toThrow(
        /envelope\.argsAt: expected the key of an offloaded payload/,
      );
    }
    expect(() => checkEnvelope({ ...envelope(), args: "", argsAt: "g{ " })).toThrow(/got "g\{ "/);
    expect(checkEnvelope({ ...envelope(), args: "", argsAt: "apps/a/payloads/in-1-1-args" }).argsAt).toBe(
      "apps/a/payloads/in-1-1-args",
    );
  });

  it("what offloadArgs sends passes the check, and the call runs on the stored arguments", async () => {
    const store = memoryStore();
    const sent = await offloadArgs(store as ObjectStore, envelope(), 10);
    expect(sent.args).toBe("");
    const e = checkEnvelope(JSON.parse(JSON.stringify(sent)));
    await consume(e, { store: () => store as ObjectStore, queue: () => memoryQueue() }, "task-1");
    const outcome = resultOf(store, e.callId);
    expect(outcome.status).toBe("SUCCESS");
    expect(decode(outcome.value as Uint8Array)).toBe(49);
  });

  it("a payload missing from the store settles the call as a FAILURE naming the key; the delivery does not throw", async () => {
    const store = memoryStore();
    const e = envelope({ args: "", argsAt: "apps/a/payloads/in-offload-1-1-args" });
    await expect(
      consume(e, { store: () => store as ObjectStore, queue: () => memoryQueue() }, "task-1"),
    ).resolves.toBeUndefined();
    const outcome = resultOf(store, e.callId);
    expect(outcome).toMatchObject({ status: "FAILURE", userError: false });
    const err = decode(outcome.error as Uint8Array) as Error;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toBe("the payload apps/a/payloads/in-offload-1-1-args is missing from the app's object store");
  });

  it("a store that refuses the read still throws, so that the platform delivers the message again", async () => {
    const store = { ...memoryStore(), get: async () => Promise.reject(new Error("store down")) };
    const e = envelope({ args: "", argsAt: "apps/a/payloads/in-offload-1-1-args" });
    await expect(consume(e, { store: () => store as ObjectStore, queue: () => memoryQueue() }, "task-1")).rejects.toThrow(
      /store down/,
    );
  });
});
