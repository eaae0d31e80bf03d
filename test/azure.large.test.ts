// A 20 MB argument and a 20 MB result on the offline Azure backend (issue 14's row): above what a call to a
// function app carries inline (16 MB, src/providers/azure/invoker.ts) and far above a Storage Queue
// message's 64 KB, so both go through Blob, for `remote` (HTTP: `invert`'s timeout is within Azure's
// 220 s) and for `spawn`/`get` (the queue). The counting proxies in front of azurite show the blobs put;
// the bytes come back inverted, each one.
import { randomBytes } from "node:crypto";
import { Function_ } from "faasade";
import { startTestBackend } from "faasade/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as rows from "./fixtures/azure-rows-app.mjs";

const MB = 1024 * 1024;
let backend: Awaited<ReturnType<typeof startTestBackend>>;
let invert: typeof rows.invert;

beforeAll(async () => {
  backend = await startTestBackend("azure", {
    module: new URL("./fixtures/azure-rows-app.mjs", import.meta.url),
    retentionMs: 600_000,
  });
  invert = Function_.fromName("azure-rows", "invert", { provider: backend.provider });
}, 120_000);
afterAll(() => backend?.close());

const inverted = (bytes: Uint8Array) => bytes.map((b) => 255 - b);
/** Blob puts by area (`payloads`, `results`, ...) and queue messages sent, since the last count. */
function traffic() {
  const counts = backend.takeRequestCounts();
  const puts = Object.fromEntries(
    Object.entries(counts)
      .filter(([op]) => op.startsWith("blob:Put Blob "))
      .map(([op, n]) => [op.slice("blob:Put Blob ".length), n]),
  );
  return { puts, messages: counts["queue:Put Message"] ?? 0, counts };
}

describe("20 MB through Blob (azure offline backend)", { timeout: 240_000 }, () => {
  it("remote over HTTP: a 20 MB argument and a 20 MB result, both as payload blobs", async () => {
    const bytes = new Uint8Array(randomBytes(20 * MB));
    traffic();
    const out = await invert.remote(bytes);
    const t = traffic();
    console.log(`20 MB remote: ${JSON.stringify(t.counts)}`);
    expect(out.byteLength).toBe(bytes.byteLength);
    expect(Buffer.from(out).equals(Buffer.from(inverted(bytes)))).toBe(true);
    // The argument (put by the client) and the result (put by the instance), each a payload blob.
    expect(t.puts.payloads).toBeGreaterThanOrEqual(2);
    expect(t.counts["blob:Get Blob payloads"]).toBeGreaterThanOrEqual(2);
    // Over HTTP: nothing queued.
    expect(t.messages).toBe(0);
  });

  it("spawn and get through the queue: a 20 MB argument and a 20 MB result", async () => {
    const bytes = new Uint8Array(randomBytes(20 * MB));
    traffic();
    const call = await invert.spawn(bytes);
    const out = await call.get({ timeoutMs: 180_000 });
    const t = traffic();
    console.log(`20 MB spawn/get: ${JSON.stringify(t.counts)}`);
    expect(out.byteLength).toBe(bytes.byteLength);
    expect(Buffer.from(out).equals(Buffer.from(inverted(bytes)))).toBe(true);
    // One message (its argument could not ride in it: a payload blob), the call's record, its result.
    expect(t.messages).toBe(1);
    expect(t.puts.payloads).toBeGreaterThanOrEqual(1);
    expect(t.puts.calls).toBe(1);
    expect(t.puts.results).toBeGreaterThanOrEqual(1);
  });
});
