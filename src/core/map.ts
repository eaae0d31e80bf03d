/**
 * Map's arguments: the iterables and options of `map`/`starmap`/`forEach`, validated, and
 * zipped into argument tuples. The scheduler itself is `MapRun` (map-run.ts).
 */
import { InvalidError, describe } from "./errors.js";
import type { FunctionSpec, Provider } from "./provider.js";

export interface MapOptions {
  /** @default true: results in input order; false: in completion order. */
  orderOutputs?: boolean;
  /** @default false; true: a failed input yields its error object in its place. */
  returnExceptions?: boolean;
  /** Appended as the last argument of every call. */
  kwargs?: Record<string, unknown>;
  signal?: AbortSignal;
}

type AnyIterable = Iterable<unknown> | AsyncIterable<unknown>;
export interface Target {
  spec: FunctionSpec;
  provider: Provider;
  parentInputId: string | undefined;
}

/** Splits `map(...iterables, options?)` arguments. */
export function splitMapArgs(method: string, args: unknown[]): { iterables: AnyIterable[]; options: MapOptions } {
  const last = args.at(-1);
  const hasOptions = args.length > 0 && isPlainObject(last) && !isIterable(last);
  const iterables = (hasOptions ? args.slice(0, -1) : args) as AnyIterable[];
  const options = (hasOptions ? last : {}) as MapOptions;
  if (iterables.length === 0) throw new InvalidError(`${method}: expected at least one iterable`);
  iterables.forEach((it, i) => {
    if (!isIterable(it)) throw new InvalidError(`${method}: argument ${i} is not iterable, got ${describe(it)}`);
  });
  for (const key of Object.keys(options)) {
    if (!["orderOutputs", "returnExceptions", "kwargs", "signal", "ignoreExceptions"].includes(key)) {
      throw new InvalidError(`${method}: unknown option ${JSON.stringify(key)}`);
    }
  }
  if (options.kwargs !== undefined && !isPlainObject(options.kwargs)) {
    throw new InvalidError(`${method}: kwargs must be a plain object, got ${describe(options.kwargs)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new InvalidError(`${method}: signal must be an AbortSignal, got ${describe(options.signal)}`);
  }
  return { iterables, options };
}

/** What a map reads, decided on its first step (so that bad arguments throw from there). */
export interface MapSetup {
  source: AsyncIterator<unknown[]> | Iterator<unknown[]>;
  isSync: boolean;
  options: MapOptions;
}

/** Zips iterables (sync or async) into argument tuples, stopping at the shortest. */
export function zip(iterables: AnyIterable[]): { source: AsyncIterator<unknown[]> | Iterator<unknown[]>; isSync: boolean } {
  const isSync = iterables.every((it) => Symbol.iterator in (it as object) && !(Symbol.asyncIterator in (it as object)));
  if (isSync) {
    const its = iterables.map((it) => (it as Iterable<unknown>)[Symbol.iterator]());
    if (its.length === 1) {
      const only = its[0] as Iterator<unknown>;
      // One result object, reused: the scheduler reads `value` before the next call.
      const step: IteratorResult<unknown[]> = { done: false, value: [] };
      return {
        isSync,
        source: {
          next: () => {
            const s = only.next();
            if (s.done) return { done: true, value: undefined };
            step.value = [s.value];
            return step;
          },
          return: (v?: unknown) => {
            only.return?.();
            return { done: true, value: v as unknown[] };
          },
        },
      };
    }
    return { isSync, source: syncZip(its) };
  }
  return { isSync, source: asyncZip(iterables) };
}

function* syncZip(its: Iterator<unknown>[]): Generator<unknown[]> {
  try {
    for (;;) {
      const tuple: unknown[] = [];
      for (const it of its) {
        const s = it.next();
        if (s.done) return;
        tuple.push(s.value);
      }
      yield tuple;
    }
  } finally {
    for (const it of its) it.return?.();
  }
}

async function* asyncZip(iterables: AnyIterable[]): AsyncGenerator<unknown[]> {
  const its = iterables.map((it) =>
    Symbol.asyncIterator in (it as object)
      ? (it as AsyncIterable<unknown>)[Symbol.asyncIterator]()
      : (it as Iterable<unknown>)[Symbol.iterator](),
  );
  try {
    for (;;) {
      const steps = await Promise.all(its.map((it) => it.next()));
      if (steps.some((s) => s.done)) return;
      yield steps.map((s) => s.value);
    }
  } finally {
    await Promise.all(its.map((it) => it.return?.()));
  }
}

function isIterable(value: unknown): value is AnyIterable {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "string") &&
    (Symbol.iterator in Object(value) || Symbol.asyncIterator in Object(value))
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
