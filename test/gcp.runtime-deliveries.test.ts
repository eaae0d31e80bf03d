// The GCP runtime's Cloud Tasks deliveries, served by the real functions-framework in this
// process, whose store and queue are in-memory test doubles (test/fixtures/gcp-doubles.mjs): what
// a first delivery and a redelivery read and write, duplicates, cancels, bodies that can never run.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decode, encode } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keysIn } from "../dist/src/cloud/keys.js";
import type { ObjectStore, Queue } from "../dist/src/cloud/primitives.js";
import * as fixture from "./fixtures/gcp-app.mjs";
import { memoryQueue, memoryStore } from "./fixtures/gcp-doubles.mjs";

describe("gcp runtime: Cloud Tasks deliveries (in this process, with in-memory store and queue doubles)", () => {
  let server: Server;
  let url = "";
  const store = memoryStore();
  const queue = memoryQueue();
  const keys = keysIn("");

  beforeAll(async () => {
    const runtime = await import("../dist/src/providers/gcp/runtime.js");
    runtime.appModule(() => import("./fixtures/gcp-app.mjs"));
    runtime.registerFaasade({
      store: () => store as ObjectStore,
      queue: () => queue as Queue,
      entryPoint: "faasade-tasks",
    });
    const { getTestServer } = await import("@google-cloud/functions-framework/testing");
    server = getTestServer("faasade-tasks");
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  let n = 0;
  const queued = (fn: string, args: unknown[]) => {
    const id = `task-${++n}`;
    return {
      v: 1,
      app: "gcp-app",
      env: "main",
      fn,
      inputId: `in-${id}`,
      callId: `fc-${id}`,
      attempt: 1,
      args: Buffer.from(encode(args, "args")).toString("base64"),
      store: { name: "bucket", prefix: "" },
      spawn: { queue: "projects/p/locations/l/queues/q", retentionMs: 60_000 },
    };
  };
  const deliver = (envelope: unknown, retryCount?: number) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-cloudtasks-taskname": "t1",
        "x-cloudtasks-queuename": "q",
        ...(retryCount === undefined ? {} : { "x-cloudtasks-taskretrycount": String(retryCount) }),
      },
      body: JSON.stringify(envelope),
    });
  const touched = (callId: string) => ({
    reads: store.reads.filter((k) => k.includes(callId)),
    puts: [...store.puts.keys()].filter((k) => k.includes(callId)),
  });
  const stored = (callId: string) =>
    JSON.parse(Buffer.from(store.objects.get(keys.result(callId)) as Uint8Array).toString("utf8"));

  it("runs the queued input and answers 200 once its outcome is stored; a second delivery runs nothing", async () => {
    const e = queued("tally", [0]);
    const before = fixture.runs.tally;
    const first = await deliver(e);
    expect(first.status).toBe(200);
    expect(store.objects.has(keys.result(e.callId))).toBe(true);
    const second = await deliver(e);
    expect(second.status).toBe(200);
    expect(fixture.runs.tally - before).toBe(1);
    expect(store.puts.get(keys.result(e.callId))).toBe(1);
    const result = stored(e.callId);
    expect(result.outcome.status).toBe("SUCCESS");
    expect(decode(Buffer.from(result.outcome.value, "base64"))).toBe(`${e.callId}:1`);
  });

  it("a first delivery (retry count 0) reads nothing and writes its outcome only; a redelivery (1) finds it, runs nothing", async () => {
    const e = queued("tally", [0]);
    const before = fixture.runs.tally;
    expect((await deliver(e, 0)).status).toBe(200);
    expect(touched(e.callId)).toEqual({ reads: [], puts: [keys.result(e.callId)] });
    expect(stored(e.callId)).toMatchObject({ outcome: { status: "SUCCESS" }, call: { fn: "tally", inputId: e.inputId } });
    expect((await deliver(e, 1)).status).toBe(200);
    expect(fixture.runs.tally - before).toBe(1);
    expect(touched(e.callId)).toEqual({ reads: [keys.result(e.callId)], puts: [keys.result(e.callId)] });
  });

  it("a first delivery of a call cancelled meanwhile leaves the cancel's TERMINATED result as it is", async () => {
    const e = queued("tally", [0]);
    const cancelled = { outcome: { v: 1, inputId: e.inputId, attempt: 0, status: "TERMINATED" }, fn: "tally" };
    await store.put(keys.result(e.callId), JSON.stringify(cancelled));
    expect((await deliver(e, 0)).status).toBe(200);
    expect(stored(e.callId).outcome.status).toBe("TERMINATED");
    expect(store.puts.get(keys.result(e.callId))).toBe(1);
  });

  it("a delivery of an attempt another delivery is still running is handed back (503), and the outcome is written once", async () => {
    const e = queued("tally", [800]);
    const before = fixture.runs.tally;
    const running = deliver(e);
    await expect.poll(() => fixture.runs.tally - before, { timeout: 5000 }).toBe(1);
    const duplicate = await deliver(e);
    expect(duplicate.status).toBe(503);
    expect(await duplicate.text()).toMatch(/^handed back: .*may still be running/);
    expect((await running).status).toBe(200);
    expect(fixture.runs.tally - before).toBe(1);
    expect(store.puts.get(keys.result(e.callId))).toBe(1);
  });

  it("a task that can never run is dropped with a 200 (Cloud Tasks would only deliver it again)", async () => {
    const r = await deliver({ v: 1, fn: "tally" });
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/^dropped: .*envelope/);
  });

  it("a user error's outcome is stored as a FAILURE; the delivery is still done", async () => {
    const e = queued("fail", ["no"]);
    expect((await deliver(e)).status).toBe(200);
    expect(stored(e.callId).outcome).toMatchObject({ status: "FAILURE", userError: true });
  });
});
