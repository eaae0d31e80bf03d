/**
 * Type tests of `Function_` (type-checked by `npm test`, never run): calls return what the
 * function returns, and a call of the wrong kind (a runtime `InvalidError`) fails to compile
 * where the handle's kind is known.
 */
import { type AnyFunction, App, type CallKind, type FunctionCall, type FunctionKind, Function_ } from "faasade";
import { describe, expectTypeOf, it } from "vitest";

const app = new App("types-app");
const square = app.function(function square(x: number) {
  return x * x;
});
const greet = app.function(async function greet(name: string, punctuation?: "!" | "?") {
  return `hello ${name}${punctuation ?? ""}`;
});
const count = app.function(async function* count(n: number) {
  for (let i = 0; i < n; i++) yield i;
});
const letters = app.function(function* letters(word: string) {
  yield* word;
});
const hook = app.function(async (request: Request) => new Response(request.url), {
  name: "hook",
  web: { method: "POST" },
});
const thrower = app.function(function thrower(message: string): never {
  throw new Error(message);
});
const request = new Request("http://127.0.0.1/");
// biome-ignore lint/suspicious/noExplicitAny: what an untyped handle's calls give, as `remote`'s did before kinds
type Untyped = any;

describe("a plain function", () => {
  it("is a plain handle of its own type", () => {
    expectTypeOf(square).toEqualTypeOf<Function_<(x: number) => number, "plain">>();
    expectTypeOf(thrower).toEqualTypeOf<Function_<(message: string) => never, "plain">>();
  });

  it("remote resolves with the function's result, awaited", () => {
    expectTypeOf(square.remote(3)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(greet.remote("ada", "!")).toEqualTypeOf<Promise<string>>();
    expectTypeOf(square.local(3)).toEqualTypeOf<number>();
    expectTypeOf(greet.local("ada")).toEqualTypeOf<Promise<string>>();
  });

  it("remote takes the function's arguments", () => {
    // @ts-expect-error a string for a number
    square.remote("3");
    // @ts-expect-error a missing argument
    square.remote();
    // @ts-expect-error a value outside the union
    greet.remote("ada", ".");
  });

  it("map, starmap and forEach yield or discard the results", () => {
    expectTypeOf(square.map([1, 2])).toEqualTypeOf<AsyncIterable<number>>();
    expectTypeOf(greet.map(["a", "b"], { orderOutputs: false })).toEqualTypeOf<AsyncIterable<string>>();
    expectTypeOf(square.starmap([[1], [2]])).toEqualTypeOf<AsyncIterable<number>>();
    expectTypeOf(square.forEach([1, 2], { ignoreExceptions: true })).toEqualTypeOf<Promise<void>>();
    // @ts-expect-error starmap's tuples are the function's arguments
    square.starmap([["1"]]);
  });

  it("spawn resolves with a plain FunctionCall of the result, whose get resolves with it", async () => {
    expectTypeOf(square.spawn(3)).toEqualTypeOf<Promise<FunctionCall<number, "plain">>>();
    const call = await greet.spawn("ada");
    expectTypeOf(call).toEqualTypeOf<FunctionCall<string, "plain">>();
    expectTypeOf(call.get()).toEqualTypeOf<Promise<string>>();
    expectTypeOf(call.get({ timeoutMs: 0 })).toEqualTypeOf<Promise<string>>();
  });

  it("remoteGen, and getGen on its calls, are type errors", async () => {
    // @ts-expect-error remoteGen() on a plain function
    square.remoteGen(3);
    // @ts-expect-error remoteGen() on a plain function, without arguments
    thrower.remoteGen();
    const call = await square.spawn(3);
    // @ts-expect-error getGen() on a plain call
    call.getGen();
  });
});

describe("a generator function", () => {
  it("is a generator handle, async or not", () => {
    expectTypeOf(count).toEqualTypeOf<Function_<(n: number) => AsyncGenerator<number, void, unknown>, "generator">>();
    expectTypeOf(letters).toEqualTypeOf<Function_<(word: string) => Generator<string, void, unknown>, "generator">>();
  });

  it("remoteGen yields the function's values", () => {
    expectTypeOf(count.remoteGen(3)).toEqualTypeOf<AsyncGenerator<number, void, undefined>>();
    expectTypeOf(letters.remoteGen("ab")).toEqualTypeOf<AsyncGenerator<string, void, undefined>>();
    // @ts-expect-error remoteGen takes the function's arguments
    count.remoteGen("3");
  });

  it("spawn resolves with a generator FunctionCall of the values, read with getGen", async () => {
    const call = await count.spawn(3);
    expectTypeOf(call).toEqualTypeOf<FunctionCall<number, "generator">>();
    expectTypeOf(call.getGen()).toEqualTypeOf<AsyncGenerator<number, void, undefined>>();
    // @ts-expect-error get() on a generator call
    call.get();
  });

  it("remote, map, starmap and forEach are type errors", () => {
    // @ts-expect-error remote() on a generator function
    count.remote(3);
    // @ts-expect-error remote() on a sync generator function
    letters.remote("ab");
    // @ts-expect-error map() on a generator function
    count.map([1, 2]);
    // @ts-expect-error starmap() on a generator function
    count.starmap([[1]]);
    // @ts-expect-error forEach() on a generator function
    count.forEach([1]);
  });
});

describe("a web function", () => {
  it("defined with web options, is a web handle", () => {
    expectTypeOf(hook).toEqualTypeOf<Function_<(request: Request) => Promise<Response>, "web">>();
    expectTypeOf(hook.getWebUrl()).toEqualTypeOf<Promise<string | undefined>>();
    expectTypeOf(hook.keepWarm(1)).toBeObject();
  });

  it("remote, remoteGen, spawn, map, starmap and forEach are type errors", () => {
    // @ts-expect-error remote() on a web function
    hook.remote(request);
    // @ts-expect-error remoteGen() on a web function
    hook.remoteGen(request);
    // @ts-expect-error spawn() on a web function
    hook.spawn(request);
    // @ts-expect-error map() on a web function
    hook.map([request]);
    // @ts-expect-error starmap() on a web function
    hook.starmap([[request]]);
    // @ts-expect-error forEach() on a web function
    hook.forEach([request]);
  });

  it("without web options the kind follows the function's type", () => {
    const options: { web?: { method: string } } = {};
    const maybeWeb = app.function(async (r: Request) => new Response(r.url), { name: "maybe", ...options });
    expectTypeOf(maybeWeb).toEqualTypeOf<Function_<(r: Request) => Promise<Response>, "plain">>();
  });
});

describe("a handle by name", () => {
  it("without a type allows every call (the runtime check decides)", async () => {
    const byName = Function_.fromName("types-app", "anything");
    expectTypeOf(byName).toEqualTypeOf<Function_>();
    expectTypeOf(byName.remote(1, "two")).toEqualTypeOf<Promise<Untyped>>();
    expectTypeOf(byName.remoteGen()).toEqualTypeOf<AsyncGenerator<unknown, void, undefined>>();
    expectTypeOf(byName.map([1])).toEqualTypeOf<AsyncIterable<Untyped>>();
    expectTypeOf(byName.starmap([[1]])).toEqualTypeOf<AsyncIterable<Untyped>>();
    expectTypeOf(byName.forEach([1])).toEqualTypeOf<Promise<void>>();
    const call = await byName.spawn(1);
    expectTypeOf(call.get()).toEqualTypeOf<Promise<Untyped>>();
    expectTypeOf(call.getGen()).toEqualTypeOf<AsyncGenerator<Untyped, void, undefined>>();
  });

  it("with a function type follows it", async () => {
    const bySquare = Function_.fromName<(x: number) => number>("types-app", "square");
    expectTypeOf(bySquare.remote(3)).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error remoteGen() on a plain function
    bySquare.remoteGen(3);
    const byCount = Function_.fromName<(n: number) => AsyncGenerator<number>>("types-app", "count");
    expectTypeOf((await byCount.spawn(2)).getGen()).toEqualTypeOf<AsyncGenerator<number, void, undefined>>();
    // @ts-expect-error remote() on a generator function
    byCount.remote(2);
    const looked = await Function_.lookup<(x: number) => number>("types-app", "square");
    expectTypeOf(looked).toEqualTypeOf<Function_<(x: number) => number, "plain">>();
  });

  it("with an explicit kind follows it, web included", () => {
    const byHook = Function_.fromName<(request: Request) => Promise<Response>, "web">("types-app", "hook");
    expectTypeOf(byHook).toEqualTypeOf<typeof hook>();
    // @ts-expect-error remote() on a web function
    byHook.remote(request);
  });
});

describe("the kinds", () => {
  it("are exported as types", () => {
    expectTypeOf<FunctionKind>().toEqualTypeOf<"plain" | "generator" | "web">();
    expectTypeOf<CallKind>().toEqualTypeOf<"plain" | "generator">();
  });
});

describe("handles as values", () => {
  it("a handle of any kind is a Function_", () => {
    const all: Function_[] = [square, greet, count, letters, hook];
    expectTypeOf(all).items.toEqualTypeOf<Function_>();
  });

  it("a handle of one kind is not one of another", () => {
    expectTypeOf(count).not.toExtend<Function_<(n: number) => AsyncGenerator<number, void, unknown>, "plain">>();
    expectTypeOf(hook).not.toExtend<Function_<(request: Request) => Promise<Response>, "plain">>();
  });

  it("generic code names the kind it calls", () => {
    const callTwice = async <F extends AnyFunction>(fn: Function_<F, "plain">, ...args: Parameters<F>) => [
      await fn.remote(...args),
      await fn.remote(...args),
    ];
    expectTypeOf(callTwice(square, 3)).resolves.items.toEqualTypeOf<number>();
    // @ts-expect-error a generator handle where a plain one is asked for
    callTwice(count, 3);
  });
});
