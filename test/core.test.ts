import { App, FunctionCall, InvalidError, Retries, currentInput, gather } from "faasade";
import { memoryProvider } from "faasade/testing";
import { describe, expect, it, vi } from "vitest";

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
};

describe("definitions", () => {
  const app = new App("core-defs", { provider: memoryProvider() });

  it("rejects anonymous, duplicate and badly named functions", () => {
    expect(() => app.function(() => 1)).toThrow(/has no name/);
    app.function(function once() {});
    expect(() => app.function(function once() {})).toThrow(/already has a function named "once"/);
    expect(() => app.function(function ok() {}, { name: "1bad" })).toThrow(InvalidError);
    expect(() => app.function(function ok() {}, { name: "a".repeat(64) })).toThrow(InvalidError);
    expect(() => app.function("nope" as never)).toThrow(/expected a function, got "nope"/);
  });

  it("rejects inconsistent or unknown options, quoting the bad value", () => {
    expect(() => app.function(function a1() {}, { minContainers: 3, maxContainers: 2 })).toThrow(
      /minContainers \(3\) is greater than maxContainers \(2\)/,
    );
    expect(() => app.function(function a2() {}, { timeoutMs: 10 })).toThrow(
      /timeoutMs must be an integer between 1000 and 86400000, got 10/,
    );
    expect(() => app.function(function* a3() {}, { retries: 2 })).toThrow(/generator functions cannot have retries/);
    expect(() => app.function(function a4() {}, { web: {}, retries: 1 })).toThrow(/web functions cannot have retries/);
    expect(() => app.function(function a5() {}, { timeout: 5 } as never)).toThrow(/unknown option "timeout"/);
    expect(() => app.function(function a6() {}, { maxInputs: 1.5 })).toThrow(/maxInputs/);
  });

  it("rejects bad app names and flags generators", () => {
    expect(() => new App("Bad_Name")).toThrow(/invalid app name "Bad_Name"/);
    expect(app.function(async function* g1() {}).isGenerator).toBe(true);
    expect(app.function(function* g2() {}).isGenerator).toBe(true);
    expect(app.function(async function g3() {}).isGenerator).toBe(false);
  });

  it("local and getRawF call the original function", async () => {
    const double = app.function(function double(x: number) {
      return x * 2;
    });
    expect(double.local(4)).toBe(8);
    expect(double.getRawF()(5)).toBe(10);
  });
});

describe("Retries", () => {
  it("computes capped exponential delays", () => {
    const r = new Retries({ maxRetries: 4, initialDelayMs: 100, backoffCoefficient: 3, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5].map((k) => r.delayBeforeRetry(k))).toEqual([100, 300, 900, 1000, undefined]);
    expect(new Retries({ maxRetries: 1 }).delayBeforeRetry(1)).toBe(1000);
  });
  it("validates its options", () => {
    expect(() => new Retries({ maxRetries: -1 })).toThrow(/maxRetries must be an integer between 0 and 100, got -1/);
    expect(() => new Retries({ maxRetries: 1, backoffCoefficient: 0.5 })).toThrow(/backoffCoefficient/);
  });
});

describe("map scheduling", () => {
  it("keeps at most 1000 inputs outstanding and reads inputs lazily", async () => {
    const provider = memoryProvider();
    const app = new App("core-window", { provider });
    const id = app.function(function id(x: number) {
      return x;
    });
    let read = 0;
    function* source() {
      for (let i = 0; i < 5000; i++) {
        read++;
        yield i;
      }
    }
    const it = id.map(source())[Symbol.asyncIterator]();
    expect(read).toBe(0); // nothing before iteration
    expect((await it.next()).value).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(provider.submitted.length).toBeLessThanOrEqual(1000);
    expect(read).toBeLessThanOrEqual(1001);
    await it.return?.();
  });

  it("cancels what is left when the loop is left early", async () => {
    const provider = memoryProvider();
    const app = new App("core-early", { provider });
    const slow = app.function(async function slow(x: number) {
      await new Promise((r) => setTimeout(r, x));
      return x;
    });
    for await (const v of slow.map([1, 500, 500, 500])) {
      expect(v).toBe(1);
      break;
    }
    expect(provider.aborted.length).toBe(3);
  });

  it("answers next() calls made without waiting, in order, and ends every one after return()", async () => {
    const app = new App("core-eager-next", { provider: memoryProvider() });
    const id = app.function(async function idLater(x: number) {
      await new Promise((r) => setTimeout(r, 5 * (3 - x)));
      return x;
    });
    const it = id.map([0, 1, 2])[Symbol.asyncIterator]();
    const steps = await Promise.all([it.next(), it.next(), it.next(), it.next()]);
    expect(steps).toEqual([
      { done: false, value: 0 },
      { done: false, value: 1 },
      { done: false, value: 2 },
      { done: true, value: undefined },
    ]);
    const left = id.map([1, 2])[Symbol.asyncIterator]();
    expect(await left.return?.()).toEqual({ done: true, value: undefined });
    expect(await left.next()).toEqual({ done: true, value: undefined });
  });

  it("retries per input with the function's policy", async () => {
    const provider = memoryProvider();
    const app = new App("core-retry", { provider });
    const seen = new Map<number, number>();
    const flaky = app.function(
      function flaky(x: number) {
        seen.set(x, (seen.get(x) ?? 0) + 1);
        if ((seen.get(x) ?? 0) < 2) throw new Error("first attempt fails");
        return x;
      },
      { retries: new Retries({ maxRetries: 1, initialDelayMs: 1 }) },
    );
    expect(await collect(flaky.map([1, 2, 3]))).toEqual([1, 2, 3]);
    expect([...seen.values()]).toEqual([2, 2, 2]);
  });

  it("warns once when a map result is never iterated", async () => {
    const app = new App("core-warn", { provider: memoryProvider() });
    const fn = app.function(function unused() {});
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    (() => fn.map([1]))();
    for (let i = 0; i < 5 && warn.mock.calls.length === 0; i++) {
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 20));
      process.emit("beforeExit", 0);
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('map() of function "unused" was never iterated');
    warn.mockRestore();
  });

  it("rejects bad map arguments on the first step of iteration", async () => {
    const app = new App("core-badmap", { provider: memoryProvider() });
    const fn = app.function(function f1(x: number) {
      return x;
    });
    const result = fn.map(42 as never);
    await expect(collect(result)).rejects.toThrow(/argument 0 is not iterable, got 42/);
    await expect(collect(fn.map([1], { order: true } as never))).rejects.toThrow(/unknown option "order"/);
  });
});

describe("calls", () => {
  it("gather and get reject bad input clearly", async () => {
    await expect(gather(1 as never)).rejects.toThrow(/argument 0 is not a FunctionCall, got 1/);
    expect(() => FunctionCall.fromId("nope")).toThrow(/invalid call id "nope"/);
    const app = new App("core-calls", { provider: memoryProvider() });
    const fn = app.function(function f2() {
      return 1;
    });
    const call = await fn.spawn();
    await expect(call.get({ timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be a number ≥ 0, got -1/);
    expect(await call.get()).toBe(1);
  });
});

describe("currentInput.required", () => {
  it("is the running input inside a function, and InvalidError outside one (local() included)", async () => {
    const app = new App("core-input", { provider: memoryProvider() });
    const attempt = app.function(function attempt() {
      const input = currentInput.required();
      return { same: input === currentInput(), attempt: input.attempt, aborted: input.signal.aborted };
    });
    expect(await attempt.remote()).toEqual({ same: true, attempt: 1, aborted: false });
    const outside = /^currentInput\.required\(\) called outside a running faasade function$/;
    expect(() => currentInput.required()).toThrow(InvalidError);
    expect(() => currentInput.required()).toThrow(outside);
    expect(() => attempt.local()).toThrow(outside);
    await app.close();
  });
});

describe("map early exit with an async source", () => {
  it("sends nothing read after the loop was left", async () => {
    const provider = memoryProvider();
    const app = new App("core-async-exit", { provider });
    const id = app.function(function idAsync(x: number) {
      return x;
    });
    let release: (() => void) | undefined;
    async function* slowSource() {
      yield 1;
      await new Promise<void>((r) => (release = r));
      yield 2; // read after the caller left: must never be sent
    }
    for await (const v of id.map(slowSource())) {
      expect(v).toBe(1);
      // Leave while the scheduler is waiting on the source; it resumes only after the break.
      setTimeout(() => release?.(), 10);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(provider.submitted).toHaveLength(1);
  });
});

describe("call graph and cancellation in the core", () => {
  it("records a map made inside an input, and PENDING while the root runs", async () => {
    const app = new App("core-graph", { provider: memoryProvider() });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const double = app.function(function double(x: number) {
      return 2 * x;
    });
    const parent = app.function(async function parent(n: number) {
      const out: number[] = [];
      for await (const v of double.map(Array.from({ length: n }, (_, i) => i))) out.push(v);
      await gate;
      return out;
    });
    const call = await parent.spawn(3);
    await new Promise((r) => setTimeout(r, 50));
    const running = await call.getCallGraph();
    expect(running[0]?.status).toBe("PENDING");
    expect(running[0]?.children.map((c) => c.status)).toEqual(["SUCCESS", "SUCCESS", "SUCCESS"]);
    release();
    expect(await call.get()).toEqual([0, 2, 4]);
    const done = await call.getCallGraph();
    expect(done[0]?.status).toBe("SUCCESS");
    expect(done[0]?.taskId).toBe("memory");
    expect(new Set(done[0]?.children.map((c) => c.functionCallId)).size).toBe(1); // one map, one call id
  });

  it("a cancelled call is never retried, and cancel validates its options", async () => {
    const provider = memoryProvider();
    const app = new App("core-cancel", { provider });
    const slow = app.function(
      async function slowFail() {
        await new Promise((r) => setTimeout(r, 30));
        throw new Error("fails");
      },
      { retries: new Retries({ maxRetries: 3, initialDelayMs: 1 }) },
    );
    const call = await slow.spawn();
    await expect(call.cancel({ terminateContainers: "yes" } as never)).rejects.toThrow(/terminateContainers must be a boolean/);
    await call.cancel();
    await expect(call.get()).rejects.toThrow(/cancelled/);
    await new Promise((r) => setTimeout(r, 100));
    expect(provider.submitted).toHaveLength(1);
  });
});
