// `fromId` from another process on the offline Azure backend (issue 14's row): a real child process,
// pointed at the same stand-ins only by `backend.env` (the storage connection string, the ARM double's
// endpoint and certificate, the managed-identity double), reads a call the test process spawned: while it
// is still pending (its record in Blob) and after it finished, with its call graph; it cancels a call
// still queued behind a busy single instance, and the message is gone (Delete Message with the receipt
// in the call's record), so it never runs; and it finds functions with `Function.lookup`.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Function_, InputCancelledError } from "faasade";
import { startTestBackend } from "faasade/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as rows from "./fixtures/azure-rows-app.mjs";

let backend: Awaited<ReturnType<typeof startTestBackend>>;
const dir = mkdtempSync(join(tmpdir(), "faasade-azure-backend-test-"));
const handle = <K extends "wait" | "slot">(name: K) =>
  Function_.fromName<(typeof rows)[K] extends Function_<infer F> ? F : never>("azure-rows", name, {
    provider: backend.provider,
  });

beforeAll(async () => {
  backend = await startTestBackend("azure", {
    module: new URL("./fixtures/azure-rows-app.mjs", import.meta.url),
    retentionMs: 600_000,
  });
}, 120_000);
afterAll(async () => {
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `script` (an ES module) in a new node process with only the backend's variables to find it; its stdout as JSON. */
async function inChild(script: string, ...args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script, ...args], {
    env: { ...process.env, ...backend.env },
    timeout: 90_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
}

const until = async (what: string, done: () => boolean, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`still not ${what} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe("azure: another process reaches calls by id (offline backend)", () => {
  it("reads a call spawned here while it is pending, then its result and call graph", async () => {
    const call = await handle("wait").spawn(10_000);
    const seen = await inChild(
      `import { FunctionCall } from "faasade";
      const call = FunctionCall.fromId(process.argv[1]);
      const pending = await call.get({ timeoutMs: 0 }).catch((e) => e.name);
      const pendingGraph = (await call.getCallGraph()).map((i) => [i.functionName, i.status, i.functionCallId]);
      const value = await call.get({ timeoutMs: 60000 });
      const graph = (await call.getCallGraph()).map((i) => [i.functionName, i.status, i.functionCallId]);
      console.log(JSON.stringify({ pending, pendingGraph, value, graph }));`,
      call.objectId,
    );
    expect(seen).toEqual({
      pending: "TimeoutError",
      pendingGraph: [["wait", "PENDING", call.objectId]],
      value: 10_000,
      graph: [["wait", "SUCCESS", call.objectId]],
    });
    expect(await call.get({ timeoutMs: 0 })).toBe(10_000);
  }, 120_000);

  it("reads a call that had finished before it looked: its result and call graph", async () => {
    const call = await handle("wait").spawn(10);
    expect(await call.get({ timeoutMs: 60_000 })).toBe(10);
    const seen = await inChild(
      `import { FunctionCall } from "faasade";
      const call = FunctionCall.fromId(process.argv[1]);
      const value = await call.get({ timeoutMs: 0 });
      const graph = (await call.getCallGraph()).map((i) => [i.functionName, i.status]);
      console.log(JSON.stringify({ value, graph }));`,
      call.objectId,
    );
    expect(seen).toEqual({ value: 10, graph: [["wait", "SUCCESS"]] });
  }, 120_000);

  it("Function.lookup finds a deployed function (and calls it); a missing one is a NotFoundError", async () => {
    const seen = await inChild(
      `import { Function } from "faasade";
      const wait = await Function.lookup("azure-rows", "wait");
      const value = await wait.remote(25);
      const missing = await Function.lookup("azure-rows", "nothing-here").then(() => "found", (e) => e.name);
      console.log(JSON.stringify({ value, missing }));`,
    );
    expect(seen).toEqual({ value: 25, missing: "NotFoundError" });
  }, 120_000);

  it("cancel from another process removes a still-queued message: the function never runs it", async () => {
    const slot = handle("slot");
    const marker = (name: string) => join(dir, name);
    const first = await slot.spawn(15_000, marker("first"));
    await until("started", () => existsSync(`${marker("first")}.started`));
    // The single instance is busy with `first` and takes no second batch: `queued` waits in the queue.
    const queued = await slot.spawn(0, marker("queued"));
    backend.takeRequestCounts();
    const seen = await inChild(
      `import { FunctionCall } from "faasade";
      const call = FunctionCall.fromId(process.argv[1]);
      await call.cancel();
      const outcome = await call.get({ timeoutMs: 10000 }).then(() => "value", (e) => e.name);
      console.log(JSON.stringify({ outcome }));`,
      queued.objectId,
    );
    expect(seen).toEqual({ outcome: "InputCancelledError" });
    const atCancel = backend.takeRequestCounts();
    expect(atCancel["queue:Delete Message"]).toBe(1);
    await expect(queued.get({ timeoutMs: 10_000 })).rejects.toBeInstanceOf(InputCancelledError);
    expect(await first.get({ timeoutMs: 60_000 })).toBe("finished");
    // A later input through the same queue runs: the cancelled one, had it still been there, came first or with it.
    expect(await (await slot.spawn(0, marker("later"))).get({ timeoutMs: 60_000 })).toBe("finished");
    await new Promise((r) => setTimeout(r, 3000));
    const after = backend.takeRequestCounts();
    expect(existsSync(`${marker("queued")}.started`)).toBe(false);
    expect(existsSync(`${marker("later")}.started`)).toBe(true);
    // The host deleted the messages of `first` and `later` after they ran, and no other: it never received `queued`.
    expect(after["host:delete"]).toBe(2);
    expect(after["host:poison"]).toBe(0);
  }, 150_000);
});
