// The gcp provider end to end on the offline backend: the real clients against the Cloud
// Storage, Cloud Tasks and Cloud Functions test doubles, each function's instances in processes
// of their own under functions-framework. A first run of the main paths; the conformance suite
// comes once the backend is behind startTestBackend("gcp").
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Function_ } from "faasade";
import { type GcpTestBackend, startGcpBackend } from "../dist/src/testing/gcp/backend.js";

process.env.METADATA_SERVER_DETECTION = "none";
let backend: GcpTestBackend;
const handle = <F extends (...args: never[]) => unknown>(name: string) =>
  Function_.fromName<F>("conformance", name, { provider: backend.provider });

beforeAll(async () => {
  backend = await startGcpBackend({ module: new URL("../dist/src/testing/fixtures.js", import.meta.url), retentionMs: 60_000 });
}, 60_000);
afterAll(() => backend?.close());

describe("gcp on the offline backend", () => {
  it("remote: an HTTPS call with an ID token to the function's instance", async () => {
    expect(await handle<(x: number) => number>("square").remote(7)).toBe(49);
  }, 60_000);

  it("spawn then get: a Cloud Tasks task dispatched to the function, its result in Cloud Storage", async () => {
    const call = await handle<(x: number) => number>("square").spawn(9);
    expect(await call.get({ timeoutMs: 30_000 })).toBe(81);
  }, 60_000);

  it("map: every input, in order", async () => {
    const out: number[] = [];
    for await (const y of handle<(x: number) => number>("square").map([1, 2, 3, 4, 5])) out.push(y);
    expect(out).toEqual([1, 4, 9, 16, 25]);
  }, 60_000);
});
