// The cloud layer's invoke path (src/cloud/invoke-path.ts): never more than `maxInFlight` calls at
// once, also while inputs keep arriving as others finish (a map refilling its window), and each
// input's answer to its own sink.
import { describe, expect, it } from "vitest";
import { invokePath } from "../src/cloud/invoke-path.js";
import type { Invoker, ObjectStore } from "../src/cloud/primitives.js";
import { decode, encode } from "../src/core/codec.js";
import type { FunctionSpec, Input, Outcome } from "../src/core/provider.js";

const fn = { app: "a", environment: "main", name: "square", isGenerator: false } as FunctionSpec;
const app = { store: {} as ObjectStore, ref: { name: "bucket", prefix: "" } };

/** An invoker that squares its input after a few ms, counting the calls it has at once. */
function squaringInvoker() {
  const seen = { running: 0, most: 0, calls: 0 };
  const invoker: Invoker = {
    callLimit: 1024 * 1024,
    async call(_fn, body) {
      seen.calls++;
      seen.most = Math.max(seen.most, ++seen.running);
      const envelope = JSON.parse(body) as { inputId: string; attempt: number; args: string };
      const [x] = decode(Buffer.from(envelope.args, "base64")) as [number];
      await new Promise((resolve) => setTimeout(resolve, seen.calls % 3));
      seen.running--;
      const value = Buffer.from(encode(x * x)).toString("base64");
      return { text: JSON.stringify({ v: 1, inputId: envelope.inputId, attempt: envelope.attempt, status: "SUCCESS", value }) };
    },
    stream: async () => undefined,
  };
  return { invoker, seen };
}

const inputOf = (i: number): Input => ({ inputId: `in-${i}`, callId: "fc-map", attempt: 1, args: encode([i], "args") });

describe("invokePath", () => {
  it("keeps at most maxInFlight calls while inputs are submitted as others finish", async () => {
    const { invoker, seen } = squaringInvoker();
    const path = invokePath(invoker, 4);
    const TOTAL = 200;
    const results = new Map<number, unknown>();
    let submitted = 0;
    await new Promise<void>((done) => {
      const submit = () => {
        const i = submitted++;
        path.submit(fn, app, inputOf(i), { outcome: settle(i), chunk: () => {} });
      };
      // As a map does: the next input is submitted soon after an outcome, not within the sink's call.
      const settle = (i: number) => (_input: Input, outcome: Outcome) => {
        results.set(i, outcome.value === undefined ? undefined : decode(outcome.value));
        if (results.size === TOTAL) done();
        else if (submitted < TOTAL) queueMicrotask(submit);
      };
      for (let k = 0; k < 10; k++) submit();
    });
    expect(seen.most).toBe(4);
    expect(seen.calls).toBe(TOTAL);
    for (let i = 0; i < TOTAL; i++) expect(results.get(i)).toBe(i * i);
    expect(path.inFlight(fn)).toBe(0);
  });
});
