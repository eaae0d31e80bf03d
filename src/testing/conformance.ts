/**
 * The provider conformance suite: the contract stated once, run against every provider.
 * A provider's test file calls `testProvider({ name, provider })` inside vitest.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  ExecutionError,
  FunctionTimeoutError,
  InvalidError,
  NotFoundError,
  RemoteError,
  SerializationError,
  TimeoutError,
  UserCodeError,
} from "../core/errors.js";
import { type AnyFunction, Function_ } from "../core/function.js";
import { FunctionCall, gather } from "../core/function-call.js";
import { currentInput } from "../core/context.js";
import type { Provider } from "../core/provider.js";
import { controlRows } from "./conformance-control.js";
import * as fixtures from "./fixtures.js";

export interface ConformanceOptions {
  name: string;
  provider: () => Provider;
  /** Whether containers are separate processes that can be killed (timeouts of sync code, exits, OOM). @default true */
  isolated?: boolean;
}

type Fixtures = typeof fixtures;
type Name = { [K in keyof Fixtures]: Fixtures[K] extends Function_<AnyFunction> ? K : never }[keyof Fixtures];

export function testProvider(options: ConformanceOptions): void {
  const isolated = options.isolated ?? true;
  describe(`provider conformance: ${options.name}`, { timeout: 20_000 }, () => {
    let provider: Provider | undefined;
    const f = <K extends Name>(name: K): Fixtures[K] => {
      provider ??= options.provider();
      return Function_.fromName(fixtures.app.name, name, { provider }) as unknown as Fixtures[K];
    };
    const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
      const out: T[] = [];
      for await (const v of it) out.push(v);
      return out;
    };
    afterAllClose(() => provider?.close());

    it("remote resolves with the result", async () => {
      expect(await f("square").remote(7)).toBe(49);
    });

    it("arguments and results round-trip", async () => {
      const cyclic: Record<string, unknown> = { name: "loop" };
      cyclic.self = cyclic;
      const value = [
        new Map([[1, new Set(["a"])]]),
        new Date(5),
        10n ** 20n,
        Buffer.from("hi"),
        -0,
        Number.NaN,
        cyclic,
        undefined,
      ];
      const [back] = (await f("echo").remote(value)) as [unknown[]];
      expect(back[0]).toEqual(value[0]);
      expect(back[1]).toEqual(new Date(5));
      expect(back[2]).toBe(10n ** 20n);
      expect(Buffer.isBuffer(back[3])).toBe(true);
      expect(Object.is(back[4], -0)).toBe(true);
      expect(back[5]).toBeNaN();
      const loop = back[6] as Record<string, unknown>;
      expect(loop.self).toBe(loop);
      expect(back).toHaveLength(8);
    });

    it("a user error arrives as UserCodeError with its cause rebuilt", async () => {
      const err = await f("fail")
        .remote("bad input", "E_BAD")
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserCodeError);
      const cause = (err as Error).cause as TypeError & { code: string };
      expect(cause).toBeInstanceOf(TypeError);
      expect(cause.message).toBe("bad input");
      expect(cause.code).toBe("E_BAD");
      expect(cause.stack).toContain("fixtures");
    });

    it("a thrown non-Error value is the cause", async () => {
      const err = await f("throwValue")
        .remote({ reason: 42 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserCodeError);
      expect((err as Error).cause).toEqual({ reason: 42 });
    });

    it("unsupported arguments fail before sending, naming their path", async () => {
      const err = await f("echo")
        .remote(1, { callback: () => 1 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SerializationError);
      expect((err as Error).message).toContain("args[1].callback");
      await expect(f("echo").remote(Symbol("s"))).rejects.toThrow(/args\[0\]/);
      await expect(f("echo").remote(new WeakMap())).rejects.toBeInstanceOf(SerializationError);
    });

    it("a result that cannot be encoded fails with SerializationError", async () => {
      await expect(f("badResult").remote()).rejects.toThrow(/result\.callback/);
    });

    it("retries by policy, counting attempts from 1", async () => {
      expect(await f("flaky").remote(2)).toBe(3);
      const err = await f("flaky")
        .remote(5)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserCodeError);
      expect(((err as Error).cause as Error).message).toBe("attempt 3 fails");
    });

    it("map yields results in input order, zips and appends kwargs", async () => {
      const inputs = Array.from({ length: 300 }, (_, i) => i);
      expect(await collect(f("square").map(inputs))).toEqual(inputs.map((x) => x * x));
      expect(await collect(f("echo").map([1, 2, 3], ["a", "b"]))).toEqual([
        [1, "a"],
        [2, "b"],
      ]);
      expect(await collect(f("echo").map([1], { kwargs: { k: true } }))).toEqual([[1, { k: true }]]);
      async function* gen() {
        yield 2;
        yield 3;
      }
      expect(await collect(f("square").map(gen()))).toEqual([4, 9]);
    });

    it("map with orderOutputs false yields every result", async () => {
      const out = await collect(f("sleep").map([60, 10, 30], { orderOutputs: false }));
      expect([...out].sort((a, b) => a - b)).toEqual([10, 30, 60]);
    });

    it("map returnExceptions yields errors in place; otherwise the first failure rejects", async () => {
      const out = await collect(f("flaky").map([0, 5, 0], { returnExceptions: true }));
      expect(out[0]).toBe(1);
      expect(out[1]).toBeInstanceOf(UserCodeError);
      expect(out[2]).toBe(1);
      await expect(collect(f("fail").map(["x"]))).rejects.toBeInstanceOf(UserCodeError);
    });

    it("leaving a map early stops reading its inputs", async () => {
      let read = 0;
      function* endless() {
        for (;;) {
          read++;
          yield read;
        }
      }
      let got = 0;
      for await (const _ of f("square").map(endless())) if (++got === 5) break;
      const after = read;
      await new Promise((r) => setTimeout(r, 50));
      expect(read).toBe(after);
      expect(read).toBeLessThanOrEqual(1000 + 5);
    });

    it("map honours an abort signal", async () => {
      const controller = new AbortController();
      const run = collect(f("sleep").map([5000, 5000], { signal: controller.signal }));
      setTimeout(() => controller.abort(new Error("stop")), 50);
      await expect(run).rejects.toThrow("stop");
    });

    it("starmap and forEach", async () => {
      expect(await collect(f("echo").starmap([[1, 2], [3]]))).toEqual([[1, 2], [3]]);
      await expect(f("square").forEach([1, 2, 3])).resolves.toBeUndefined();
      await expect(f("fail").forEach(["a"])).rejects.toBeInstanceOf(UserCodeError);
      await expect(f("fail").forEach(["a"], { ignoreExceptions: true })).resolves.toBeUndefined();
    });

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
      await expect(call.get()).rejects.toBeInstanceOf(InvalidError);
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

    it("calls of the wrong kind are InvalidError", async () => {
      await expect(f("count").remote(1)).rejects.toBeInstanceOf(InvalidError);
      await expect(collect(f("square").remoteGen(1))).rejects.toBeInstanceOf(InvalidError);
      await expect(collect(f("count").map([1]))).rejects.toBeInstanceOf(InvalidError);
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
      const missing = Function_.fromName("conformance", "nope", { provider: provider ?? options.provider() });
      await expect(missing.remote()).rejects.toBeInstanceOf(NotFoundError);
      await expect(Function_.lookup("no-such-app", "square")).rejects.toBeInstanceOf(NotFoundError);
      expect(() => f("square").getRawF()).toThrow(ExecutionError);
      expect(await f("square").getWebUrl()).toBeUndefined();
      expect(await f("square").hydrate()).toBeInstanceOf(Function_);
      expect(() => f("square").local(2)).toThrow(ExecutionError);
    });

    it("a function that never settles times out", async () => {
      await expect(f("hang").remote()).rejects.toBeInstanceOf(FunctionTimeoutError);
    });

    it("a timed-out input sees its signal abort", async () => {
      await expect(f("cooperative").remote(10_000)).rejects.toBeInstanceOf(FunctionTimeoutError);
      expect(await f("cooperative").remote(10)).toBe("finished");
    });

    it.skipIf(!isolated)("busy sync code is stopped at its timeout and the function works afterwards", async () => {
      const started = Date.now();
      await expect(f("spin").remote(20_000)).rejects.toBeInstanceOf(FunctionTimeoutError);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await f("spin").remote(1)).toBe(1);
    });

    it.skipIf(!isolated)("a container that calls process.exit fails its input with RemoteError", async () => {
      const err = await f("exit")
        .remote(3)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as Error).message).toMatch(/exited with code 3/);
      expect(await f("square").remote(3)).toBe(9);
    });

    it.skipIf(!isolated)("a lost container uses up an attempt and the retry runs in a new one", async () => {
      expect(await f("exitOnce").remote()).toBe(2);
    });

    controlRows({ f, provider: () => (provider ??= options.provider()), isolated });

    it.skipIf(!isolated)("a container that runs out of memory fails its input with RemoteError", async () => {
      const err = await f("oom")
        .remote()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as Error).message).toMatch(/memory|exited/);
    });
  });
}

function afterAllClose(close: () => Promise<void> | undefined): void {
  afterAll(async () => {
    await close();
  });
}
