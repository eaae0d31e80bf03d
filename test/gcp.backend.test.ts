// The gcp provider end to end on the offline backend: the real clients against the Cloud
// Storage, Cloud Tasks and Cloud Functions test doubles, each function's instances in processes
// of their own under functions-framework: the main paths, and what only Google's parts do
// (tasks named by their send, DeleteTask on cancel). The contract itself: gcp.conformance.test.ts.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Function_, InputCancelledError } from "faasade";
import { queuePath } from "../dist/src/providers/gcp/names.js";
import { taskName } from "../dist/src/providers/gcp/tasks-queue.js";
import { type GcpTestBackend, startGcpBackend } from "../dist/src/testing/gcp/backend.js";

process.env.METADATA_SERVER_DETECTION = "none";
let backend: GcpTestBackend;
const handle = <F extends (...args: never[]) => unknown>(name: string) =>
  Function_.fromName<F>("conformance", name, { provider: backend.provider });

beforeAll(async () => {
  backend = await startGcpBackend({ module: new URL("../dist/src/testing/fixtures.js", import.meta.url), retentionMs: 60_000 });
}, 60_000);
afterAll(() => backend?.close());
/** The fixture app's names, as the backend made them. */
const ref = {
  get prefix() {
    return backend.env.FAASADE_GCP_PREFIX as string;
  },
  project: "faasade-offline",
  region: "us-central1",
  app: "conformance",
  environment: "main",
};

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

  it("another process reads a spawned call: pending from its task (GetTask; no call record), then its result and graph", async () => {
    const call = await handle<(ms: number) => Promise<number>>("sleep").spawn(3000);
    backend.takeRequestCounts();
    const script = `
      import { FunctionCall } from "faasade";
      const call = FunctionCall.fromId(process.argv[1]);
      const pending = await call.get({ timeoutMs: 0 }).catch((e) => e.name);
      const value = await call.get({ timeoutMs: 30000 });
      const graph = (await call.getCallGraph()).map((i) => [i.functionName, i.status]);
      console.log(JSON.stringify({ pending, value, graph }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script, call.objectId], {
      env: { ...process.env, ...backend.env },
      timeout: 60_000,
    });
    expect(JSON.parse(stdout)).toEqual({ pending: "TimeoutError", value: 3000, graph: [["sleep", "SUCCESS"]] });
    const counts = backend.takeRequestCounts();
    expect(counts["tasks:GetTask"]).toBeGreaterThanOrEqual(1);
    expect(counts["tasks:ListQueues"]).toBe(1);
  }, 90_000);

  it("cancel of a queued call deletes its task (DeleteTask): it is never dispatched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faasade-gcp-cancel-"));
    const slot = handle<(ms: number, marker: string) => string>("slot");
    const first = await slot.spawn(1500, join(dir, "first"));
    const queued = await slot.spawn(0, join(dir, "queued"));
    for (let i = 0; i < 100 && !existsSync(join(dir, "first.started")); i++) await new Promise((r) => setTimeout(r, 100));
    backend.takeRequestCounts();
    await queued.cancel();
    expect(backend.takeRequestCounts()["tasks:DeleteTask"]).toBe(1);
    await expect(queued.get()).rejects.toBeInstanceOf(InputCancelledError);
    expect(await first.get({ timeoutMs: 30_000 })).toBe("finished");
    expect(await slot.remote(0, join(dir, "after"))).toBe("finished");
    expect(existsSync(join(dir, "queued.started"))).toBe(false);
    // The task was gone from the queue, not dispatched and then refused by the marker.
    const name = taskName(queuePath(ref, "slot"), `${queued.objectId}/1`);
    expect(backend.tasks.dispatches.filter((d) => d.task === name)).toEqual([]);
    expect(backend.tasks.dispatches.some((d) => d.queue === queuePath(ref, "slot"))).toBe(true);
  }, 60_000);
});
