// Issue 14's row "a function with timeoutMs 300 000 that runs 240 s still answers remote", on the offline
// Azure backend with the host stand-in's HTTP cap set low (Azure's front answers no HTTP request after
// 230 s; here after CAP_MS). The provider keeps 10 s of the cap for the answer, so a function whose
// timeout is past CAP_MS − 10 s is called through the queue and Blob, `remote` too: `long` (timeoutMs
// 300 000) runs past the cap and still answers. A raw POST to the same function app's faasade route, held
// past the cap, is cut by the stand-in with a 504: the cap is real. `short`, whose timeout is within the
// cap's room, still goes over HTTP.
import { randomUUID } from "node:crypto";
import { Function_, encode } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerName, siteName } from "../dist/src/providers/azure/names.js";
import { type AzureTestBackend, startAzureBackend } from "../dist/src/testing/azure/backend.js";
import type * as rows from "./fixtures/azure-rows-app.mjs";

/** The stand-in's HTTP cap: `short` (timeoutMs 4 000) fits in its room of CAP_MS − 10 s, `long` does not. */
const CAP_MS = 14_000;
/** How long `long` runs in the row: well past the cap (Azure's 240 s against 230 s, scaled down). */
const RUN_MS = 20_000;

let backend: AzureTestBackend;
const handle = <K extends "long" | "short">(name: K) =>
  Function_.fromName<(typeof rows)[K] extends Function_<infer F> ? F : never>("azure-rows", name, {
    provider: backend.provider,
  });

beforeAll(async () => {
  backend = await startAzureBackend(
    { module: new URL("./fixtures/azure-rows-app.mjs", import.meta.url), retentionMs: 600_000 },
    { host: { httpCapMs: CAP_MS } },
  );
}, 120_000);
afterAll(() => backend?.close());

/** The app's names as the backend made them. */
const ref = () => ({
  subscriptionId: backend.env.AZURE_SUBSCRIPTION_ID as string,
  resourceGroup: backend.env.FAASADE_AZURE_RESOURCE_GROUP as string,
  prefix: backend.env.FAASADE_AZURE_PREFIX as string,
  app: "azure-rows",
  environment: "main",
});

describe(`azure: a call longer than the HTTP cap (host stand-in's cap ${CAP_MS} ms)`, () => {
  it(`a function with timeoutMs 300 000 that runs ${RUN_MS} ms still answers remote, through the queue and Blob`, async () => {
    backend.takeRequestCounts();
    const startedAt = Date.now();
    expect(await handle("long").remote(RUN_MS)).toBe(`slept ${RUN_MS}`);
    const elapsed = Date.now() - startedAt;
    const counts = backend.takeRequestCounts();
    console.log(`long remote: ${elapsed} ms, ${JSON.stringify(counts)}`);
    expect(elapsed).toBeGreaterThan(CAP_MS);
    // One message for the input, run by the host's queue listener; its outcome put in Blob and read back.
    expect(counts["queue:Put Message"]).toBe(1);
    expect(counts["host:delete"]).toBe(1);
    const blobs = (verb: string) =>
      Object.entries(counts)
        .filter(([op]) => new RegExp(`^blob:${verb} (map-results|results)$`).test(op))
        .reduce((n, [, k]) => n + k, 0);
    expect(blobs("Put Blob")).toBeGreaterThanOrEqual(1);
    expect(blobs("Get Blob")).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("a function with a timeout within the cap's room (≤ cap − 10 s) still goes over HTTP", async () => {
    backend.takeRequestCounts();
    expect(await handle("short").remote(500)).toBe("slept 500");
    const counts = backend.takeRequestCounts();
    console.log(`short remote: ${JSON.stringify(counts)}`);
    expect(counts["queue:Put Message"] ?? 0).toBe(0);
    expect(counts["host:delete"]).toBe(0);
  }, 60_000);

  it("a raw POST to the same function app's faasade route, held past the cap, is cut with a 504", async () => {
    const site = siteName(ref(), "long");
    const envelope = {
      v: 1,
      app: "azure-rows",
      env: "main",
      fn: "long",
      inputId: `in-${randomUUID()}`,
      callId: `fc-${randomUUID()}`,
      attempt: 1,
      args: Buffer.from(encode([CAP_MS + 15_000], "args")).toString("base64"),
      store: { name: containerName(ref()), prefix: "" },
    };
    const startedAt = Date.now();
    const response = await fetch(`${backend.env.FAASADE_AZURE_ENDPOINT_FUNCTIONS}/${site}/faasade`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-functions-key": backend.host.keyOf(site) },
      body: JSON.stringify(envelope),
    });
    const elapsed = Date.now() - startedAt;
    const text = await response.text();
    console.log(`raw POST: ${response.status} after ${elapsed} ms: ${text}`);
    expect(response.status).toBe(504);
    // Cut at the cap, long before the function would have answered.
    expect(elapsed).toBeGreaterThanOrEqual(CAP_MS - 500);
    expect(elapsed).toBeLessThan(CAP_MS + 12_000);
  }, 90_000);
});
