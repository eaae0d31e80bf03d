/**
 * Kinds at the type level: which calls a `Function_` or a `FunctionCall` allows, as far as its
 * type tells. The runtime checks (`InvalidError`) stay; these make the same mistakes fail to
 * compile where the kind is known.
 */

/**
 * What a handle calls: `"plain"`, `"generator"` (a `function*` or `async function*`) or `"web"`
 * (defined with `web` options). A union means "not known": every method of those kinds
 * type-checks and the runtime check decides, as for an untyped `Function.fromName`.
 */
/** The types of a handle's function: its arguments and results, or what it yields. */
// biome-ignore lint/suspicious/noExplicitAny: user functions take and return anything
export type AnyFunction = (...args: any[]) => any;
export type ResultOf<F extends AnyFunction> = Awaited<ReturnType<F>>;
export type YieldOf<F extends AnyFunction> =
  ReturnType<F> extends AsyncIterable<infer Y> ? Y : ReturnType<F> extends Iterable<infer Y> ? Y : never;

export type FunctionKind = "plain" | "generator" | "web";
/** What a spawned call reads back: a result with `get()`, or a generator's values with `getGen()`. */
export type CallKind = "plain" | "generator";

/**
 * The kind a function's type tells: a generator when it returns one, else plain (a function that
 * only throws, returning `never`, included). `any` tells nothing: every kind, so an untyped
 * handle allows every call.
 */
export type KindOf<F extends AnyFunction> = 0 extends 1 & ReturnType<F>
  ? FunctionKind
  : [ReturnType<F>] extends [never]
    ? "plain"
    : GeneratorOrPlain<ReturnType<F>>;
// biome-ignore lint/suspicious/noExplicitAny: any generator, whatever it yields, returns or takes
type AnyGenerator = Generator<any, any, any> | AsyncGenerator<any, any, any>;
type GeneratorOrPlain<R> = R extends AnyGenerator ? "generator" : "plain";

/**
 * The `this` a method demands: anything when the kind allows the method, else a type that no
 * handle has, whose one key is the reason, so that the compiler's error quotes it.
 */
type Refused<Why extends string> = { readonly [reason in Why]: never };
type Disjoint<K, Allowed> = [Extract<K, Allowed>] extends [never] ? true : false;

/** `this` of a `Function_` method that handles of kinds `Allowed` may call. */
export type Allows<K extends FunctionKind, Allowed extends FunctionKind, Method extends string> =
  Disjoint<K, Allowed> extends true
    ? Refused<
        [K] extends ["generator"]
          ? `${Method}() is not allowed on a generator function: use remoteGen(), or spawn() then getGen()`
          : [K] extends ["web"]
            ? `${Method}() is not allowed on a web function: call it over HTTP at getWebUrl()`
            : `${Method}() is only for generator functions: use remote()`
      >
    : unknown;

/** `this` of a `FunctionCall` method that calls of kind `Allowed` may call. */
export type CallAllows<K extends CallKind, Allowed extends CallKind, Method extends string> =
  Disjoint<K, Allowed> extends true
    ? Refused<
        Allowed extends "plain"
          ? `${Method}() is not allowed on a generator call: use getGen()`
          : `${Method}() is only for generator calls: use get()`
      >
    : unknown;
