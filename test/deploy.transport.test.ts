// Clients of a local deployment ride through its restart (../shared/API.md, "Executions in
// detail"): connection refused or reset is retried within the call's deadline (60 s where it has
// none), `remote` and map inputs are sent again under the same ids without using an attempt, and
// only a deployment unreachable for the whole window fails the call, with InternalFailure.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { request } from "node:http";
import { Function_, FunctionCall, InternalFailure } from "faasade";
import { deployment } from "faasade/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The built modules: the same codec and wire as the server.
import { decode, encode } from "../dist/src/core/codec.js";
import { FrameReader, pack } from "../dist/src/providers/local/deploy/wire.js";

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), "faasade-ride-"));
const env = { ...process.env, FAASADE_HOME: home };
const cli = (...args: string[]) => run(process.execPath, ["dist/src/cli/main.js", ...args], { env, timeout: 60_000 });
const serverPid = () => (JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number }).pid;
const provider = deployment({ home });
type Attempt = (ms: number, x: number) => { x: number; attempt: number };
const fn = Function_.fromName<Attempt>("ride-app", "attempt", { provider });

/** kill -9 of the server, and a restart `afterMs` later (a deploy starts it again). */
async function crashAndRestart(afterMs: number): Promise<void> {
  process.kill(serverPid(), "SIGKILL");
  await new Promise((r) => setTimeout(r, afterMs));
  await cli("deploy", "test/fixtures/ride-app.mjs");
}

beforeAll(async () => {
  await cli("deploy", "test/fixtures/ride-app.mjs");
  await fn.hydrate();
}, 60_000);
afterAll(async () => {
  try {
    process.kill(serverPid(), "SIGTERM");
  } catch {
    // already gone
  }
  await provider.close();
  rmSync(home, { recursive: true, force: true });
});

describe("riding through a restart of the local deployment", { timeout: 90_000 }, () => {
  it("get({ timeoutMs }) made while the server is down resolves once it is back", async () => {
    const call = await fn.spawn(1500, 7);
    const restarted = crashAndRestart(1000);
    const got = await call.get({ timeoutMs: 30_000 });
    await restarted;
    // The spawn was acknowledged before the crash: it runs again after the restart, at least once.
    expect(got.x).toBe(7);
    expect(await FunctionCall.fromId(call.functionCallId, { provider }).get({ timeoutMs: 1000 })).toEqual(got);
  });

  it("remote and map inputs in flight are sent again under the same ids, without using an attempt", async () => {
    const one = fn.remote(1500, 1);
    const many = (async () => {
      const out = [];
      for await (const r of fn.map(
        Array.from({ length: 40 }, () => 300),
        Array.from({ length: 40 }, (_, i) => i),
      ))
        out.push(r);
      return out;
    })();
    await new Promise((r) => setTimeout(r, 500));
    await crashAndRestart(1000);
    expect(await one).toEqual({ x: 1, attempt: 1 });
    const results = await many;
    expect(results.map((r) => r.x)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(results.every((r) => r.attempt === 1)).toBe(true);
  });

  it("inputs sent again while their old stream is still open are taken over by the new one", async () => {
    const { port } = JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { port: number };
    const token = readFileSync(join(home, "token"), "utf8").trim();
    const input = { inputId: "in-takeover-1", callId: "fc-takeover-1", attempt: 1, args: encode([600, 5], "args") };
    const stream = () =>
      new Promise<{ outcomes: number; values: unknown[] }>((resolve, reject) => {
        const body = pack({ inputs: [input] });
        const req = request(
          {
            host: "127.0.0.1",
            port,
            method: "POST",
            path: "/v1/fn/main/ride-app/attempt/run",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/cbor", "content-length": body.length },
          },
          (res) => {
            const reader = new FrameReader();
            const values: unknown[] = [];
            res.on("data", (c: Buffer) =>
              reader.push(c, (m) => values.push(decode((m as { o: { value: Uint8Array } }).o.value))),
            );
            res.on("end", () => resolve({ outcomes: values.length, values }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    const old = stream();
    await new Promise((r) => setTimeout(r, 150));
    const fresh = stream();
    expect(await fresh).toEqual({ outcomes: 1, values: [{ x: 5, attempt: 1 }] });
    expect(await old).toEqual({ outcomes: 0, values: [] }); // ended without it: the input ran on in the new stream
  });

  it("stats and lookups ride through too", async () => {
    const stats = fn.getCurrentStats();
    await crashAndRestart(800);
    expect(await stats).toEqual(expect.objectContaining({ backlog: expect.any(Number) }));
    const looked = await Function_.lookup("ride-app", "attempt", { provider });
    expect((await looked.remote(0, 3)).x).toBe(3);
  });

  it("a deployment down for the whole deadline fails the call with InternalFailure naming it and the last error", async () => {
    const call = await fn.spawn(0, 1);
    await call.get();
    process.kill(serverPid(), "SIGKILL");
    const started = performance.now();
    const err = await FunctionCall.fromId(call.functionCallId, { provider })
      .get({ timeoutMs: 2000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalFailure);
    expect((err as Error).message).toMatch(/local deployment server \(FAASADE_HOME=.*\) could not be reached \(ECONNREFUSED\)/);
    expect((err as Error).message).toMatch(/still failing after \d+\.\d s/);
    expect(performance.now() - started).toBeGreaterThan(1500);
    expect(performance.now() - started).toBeLessThan(20_000); // the deadline's, not the 60 s without one
    await cli("deploy", "test/fixtures/ride-app.mjs");
  });
});
