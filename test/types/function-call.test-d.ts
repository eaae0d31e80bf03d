/** Type tests of `FunctionCall` and `gather` (type-checked by `npm test`, never run). */
import { App, FunctionCall, gather } from "faasade";
import { describe, expectTypeOf, it } from "vitest";

const app = new App("types-calls");
const square = app.function(function square(x: number) {
  return x * x;
});
const greet = app.function(async function greet(name: string) {
  return `hello ${name}`;
});

describe("FunctionCall.fromId", () => {
  it("without a kind allows get and getGen", () => {
    const call = FunctionCall.fromId<number>("fc-1");
    expectTypeOf(call).toEqualTypeOf<FunctionCall<number>>();
    expectTypeOf(call.get()).toEqualTypeOf<Promise<number>>();
    expectTypeOf(call.getGen()).toEqualTypeOf<AsyncGenerator<number, void, undefined>>();
    expectTypeOf(FunctionCall.fromId("fc-1").get()).toEqualTypeOf<Promise<unknown>>();
  });

  it("with isGenerator allows only the matching read", () => {
    const gen = FunctionCall.fromId<number>("fc-1", { isGenerator: true });
    expectTypeOf(gen).toEqualTypeOf<FunctionCall<number, "generator">>();
    expectTypeOf(gen.getGen()).toEqualTypeOf<AsyncGenerator<number, void, undefined>>();
    // @ts-expect-error get() on a generator call
    gen.get();
    const plain = FunctionCall.fromId<string>("fc-1", { isGenerator: false });
    expectTypeOf(plain.get({ timeoutMs: 1000 })).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error getGen() on a plain call
    plain.getGen();
  });

  it("get takes only GetOptions", () => {
    // @ts-expect-error timeoutMs is a number
    FunctionCall.fromId("fc-1").get({ timeoutMs: "1000" });
  });
});

describe("gather", () => {
  it("resolves with the results in argument order", async () => {
    const results = gather(await square.spawn(2), await greet.spawn("ada"), FunctionCall.fromId<boolean>("fc-1"));
    expectTypeOf(results).toEqualTypeOf<Promise<[number, string, boolean]>>();
  });
});
