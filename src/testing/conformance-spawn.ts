/**
 * Conformance rows for spawned calls and generators: `spawn`/`get`/`gather`/`fromId`,
 * `remoteGen`/`getGen`, calls of the wrong kind, `currentInput()`, handles by name, large
 * spawns, long generators and results past their retention.
 */
import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ExecutionError, InvalidError, NotFoundError, OutputExpiredError, TimeoutError, UserCodeError } from "../core/errors.js";
import { Function_ } from "../core/function.js";
import { FunctionCall, gather } from "../core/function-call.js";
import { currentInput } from "../core/context.js";
import { type RowContext, collect, within } from "./conformance-context.js";

export function spawnRows({ vt, f, provider, retentionMs }: RowContext): void {
  const { expect, it } = vt;

  it("spawn, get, gather and fromId", async () => {
    const call = await f("square").spawn(6);
    expect(call.objectId).toMatch(/^fc-/);
    expect(call.functionCallId).toBe(call.objectId);
    expect(await call.get()).toBe(36);
    expect(await call.get()).toBe(36);
    expect(await FunctionCall.fromId(call.objectId).get()).toBe(36);
    const slow = await f("sleep").spawn(300);
    await expect(slow.get({ timeoutMs: 0 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await gather(slow, call)).toEqual([300, 36]);
    const failing = await f("fail").spawn("no");
    await expect(gather(await f("sleep").spawn(200), failing)).rejects.toBeInstanceOf(UserCodeError);
    await expect(FunctionCall.fromId("fc-unknown").get()).rejects.toBeInstanceOf(NotFoundError);
  });

  it("40 spawns at once of 100 to 200 KB arguments all run and return their results", { timeout: 60_000 }, async () => {
    // Sizes spread over the range, so that some sit just below and some just above whatever
    // inline limit the provider has (batches of inline ones must still fit their requests).
    // Random bytes: a payload that compresses to nothing would not test the size limits.
    const payloads = Array.from({ length: 40 }, (_, i) => randomBytes(100_000 + i * 2_500));
    const calls = await Promise.all(payloads.map((bytes) => f("digest").spawn(bytes)));
    const expected = payloads.map((bytes) => `${bytes.byteLength}:${createHash("sha256").update(bytes).digest("hex")}`);
    expect(await within(45_000, "gathering the 40 spawns", gather(...calls))).toEqual(expected);
  });

  it("generators stream with remoteGen and getGen", async () => {
    expect(await collect(f("count").remoteGen(4))).toEqual([0, 1, 2, 3]);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const v of f("countThenFail").remoteGen(2)) seen.push(v);
      })(),
    ).rejects.toBeInstanceOf(UserCodeError);
    expect(seen).toEqual([0, 1]);
    const call = await f("count").spawn(3);
    expect(await collect(call.getGen())).toEqual([0, 1, 2]);
    // @ts-expect-error a generator call's get() is a type error too; this row checks the runtime refusal
    await expect(call.get()).rejects.toBeInstanceOf(InvalidError);
  });

  it("a spawned generator of 1 500 values reads back whole and in order with getGen", { timeout: 120_000 }, async () => {
    const call = await f("count").spawn(1500);
    const values = await within(100_000, "reading 1 500 values", collect(call.getGen()));
    expect(values).toHaveLength(1500);
    expect(values).toEqual(Array.from({ length: 1500 }, (_, i) => i));
  });

  it("leaving remoteGen early stops the remote generator, and its container serves the next call", async () => {
    const take = async (n: number) => {
      const out: number[] = [];
      for await (const v of f("ticker").remoteGen()) {
        out.push(v as number);
        if (out.length === n) break;
      }
      return out;
    };
    expect(await take(3)).toEqual([0, 1, 2]);
    expect(await take(2)).toEqual([0, 1]);
  });

  // Each call below is a type error as well (test/types); the rows check the runtime refusal, for untyped handles.
  it("calls of the wrong kind are InvalidError", async () => {
    // @ts-expect-error remote() on a generator function
    await expect(f("count").remote(1)).rejects.toBeInstanceOf(InvalidError);
    // @ts-expect-error remoteGen() on a plain function
    await expect(collect(f("square").remoteGen(1))).rejects.toBeInstanceOf(InvalidError);
    // @ts-expect-error map() on a generator function
    await expect(collect(f("count").map([1]))).rejects.toBeInstanceOf(InvalidError);
    // @ts-expect-error getGen() on a plain call
    await expect((await f("square").spawn(1)).getGen().next()).rejects.toBeInstanceOf(InvalidError);
  });

  it("currentInput describes the running input", async () => {
    const info = (await f("context").remote()) as {
      inputId: string;
      functionCallId: string;
      attempt: number;
      aborted: boolean;
    };
    expect(info.inputId).toMatch(/^in-/);
    expect(info.functionCallId).toMatch(/^fc-/);
    expect(info.attempt).toBe(1);
    expect(info.aborted).toBe(false);
    expect(currentInput()).toBeUndefined();
  });

  it("handles by name: lazy, eager, unknown", async () => {
    expect(() => Function_.fromName("conformance", "bad.name")).toThrow(InvalidError);
    const missing = Function_.fromName("conformance", "nope", { provider: provider() });
    await expect(missing.remote()).rejects.toBeInstanceOf(NotFoundError);
    await expect(Function_.lookup("no-such-app", "square")).rejects.toBeInstanceOf(NotFoundError);
    expect(() => f("square").getRawF()).toThrow(ExecutionError);
    expect(await f("square").getWebUrl()).toBeUndefined();
    expect(await f("square").hydrate()).toBeInstanceOf(Function_);
    expect(() => f("square").local(2)).toThrow(ExecutionError);
  });

  const waitMs = (retentionMs ?? 0) + 1000;
  it("results past their retention are OutputExpiredError, for get and getGen", { timeout: waitMs + 30_000 }, async ({
    skip,
  }) => {
    if (retentionMs === undefined) skip("retentionMs is not set: the provider's retention is not declared");
    const call = await f("square").spawn(5);
    const gen = await f("count").spawn(2);
    expect(await call.get()).toBe(25);
    expect(await collect(gen.getGen())).toEqual([0, 1]);
    await sleep(waitMs);
    // Bounded: a provider that took "expired" for "still running" would otherwise wait forever.
    await expect(call.get({ timeoutMs: 5000 })).rejects.toBeInstanceOf(OutputExpiredError);
    await expect(FunctionCall.fromId(call.objectId).get({ timeoutMs: 5000 })).rejects.toBeInstanceOf(OutputExpiredError);
    await expect(within(10_000, "getGen of an expired call", collect(gen.getGen()))).rejects.toBeInstanceOf(OutputExpiredError);
  });
}
