// A 20 MB argument and a 20 MB result on the offline gcp backend: above what a request to the
// function carries inline (16 MB, http-invoker.ts) and far above a Cloud Tasks task's 1 MB, so
// both go through Cloud Storage, for `remote` and for `spawn`/`get`. The Storage double's
// request counts show the uploads and downloads; the bytes come back inverted, each one.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { startFaultyGcp } from "./faults/gcp-harness.js";

const MB = 1024 * 1024;
const f = await startFaultyGcp();
afterAll(() => f.close());
const invert = f.fn("invert");
const inverted = (bytes: Uint8Array) => bytes.map((b) => 255 - b);

/** Storage uploads and downloads since the last count. */
function storageTraffic() {
  const counts = f.backend.takeRequestCounts();
  return { uploads: counts["storage:objects.insert"] ?? 0, downloads: counts["storage:objects.download"] ?? 0 };
}

describe("20 MB through Cloud Storage (gcp offline backend)", { timeout: 180_000 }, () => {
  it("remote: a 20 MB argument and a 20 MB result", async () => {
    const bytes = new Uint8Array(randomBytes(20 * MB));
    storageTraffic();
    const out = await invert.remote(bytes);
    const traffic = storageTraffic();
    console.log(`20 MB remote: ${JSON.stringify(traffic)}`);
    expect(out.byteLength).toBe(bytes.byteLength);
    expect(Buffer.from(out).equals(Buffer.from(inverted(bytes)))).toBe(true);
    // The argument up (the client), the result up (the instance); each read back once by the other side.
    expect(traffic.uploads).toBeGreaterThanOrEqual(2);
    expect(traffic.downloads).toBeGreaterThanOrEqual(2);
  });

  it("spawn and get: a 20 MB argument and a 20 MB result", async () => {
    const bytes = new Uint8Array(randomBytes(20 * MB));
    storageTraffic();
    const call = await invert.spawn(bytes);
    const out = await call.get({ timeoutMs: 120_000 });
    const traffic = storageTraffic();
    console.log(`20 MB spawn/get: ${JSON.stringify(traffic)}`);
    expect(Buffer.from(out).equals(Buffer.from(inverted(bytes)))).toBe(true);
    // The argument and the result at least (no call record: the task is one); both read back.
    expect(traffic.uploads).toBeGreaterThanOrEqual(2);
    expect(traffic.downloads).toBeGreaterThanOrEqual(2);
    // The task itself stayed small: Cloud Tasks takes at most 1 MB.
    const tasks = f.doubles.tasks.dispatches.filter((d) => d.queue.endsWith("-invert"));
    expect(tasks.map((d) => d.outcome)).toEqual(["succeeded"]);
  });
});
