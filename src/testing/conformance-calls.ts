/** Conformance rows for calls: `remote`, the codec across the wire, user errors, retries, `map` and its kin. */
import { SerializationError, UserCodeError } from "../core/errors.js";
import { type RowContext, collect } from "./conformance-context.js";

export function callRows({ vt, f }: RowContext): void {
  const { expect, it } = vt;

  it("remote resolves with the result", async () => {
    expect(await f("square").remote(7)).toBe(49);
  });

  it("arguments and results round-trip", async () => {
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const value = [new Map([[1, new Set(["a"])]]), new Date(5), 10n ** 20n, Buffer.from("hi"), -0, Number.NaN, cyclic, undefined];
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

  it("map with orderOutputs false yields in completion order: the fast inputs first", async () => {
    // Two containers suffice: the slow input holds one while the other runs both fast ones. The
    // gap (5 s against 50 ms) leaves room for the second container's cold start on a loaded
    // machine (with 2.5 s the local row failed once under the whole test suite on 2 cores).
    const out = await collect(f("race").map([5000, 50, 50], { orderOutputs: false }));
    expect(out).toEqual([50, 50, 5000]);
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
}
