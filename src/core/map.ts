/**
 * The map scheduler: reads the input iterables lazily, keeps at most `window` inputs
 * outstanding (sent and not yet yielded, held-back results included), yields in input or
 * completion order, and cancels what is left when the loop is left early.
 */
import { Attempts, type Pending } from "./attempts.js";
import { encode } from "./codec.js";
import { InvalidError, describe } from "./errors.js";
import { failure } from "./executor.js";
import { newCallId, newInputId } from "./ids.js";
import { outcomeError, unwrap } from "./outcome.js";
import type { FunctionSpec, Outcome, Provider } from "./provider.js";

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

/** Outstanding inputs at most, and how far below it the window must fall before a refill. */
const WINDOW = 1000;
const REFILL = 125;

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

/** Runs the map; `setup` runs on the first step of iteration. */
export async function* runMap(setup: () => MapSetup & { target: Target }): AsyncGenerator<unknown, void, undefined> {
  const { source, isSync, options, target } = setup();
  const { spec, provider, parentInputId } = target;
  const ordered = options.orderOutputs !== false;
  const returnExceptions = options.returnExceptions === true;
  const kwargs = options.kwargs;
  const callId = newCallId();
  // Ordered results sit in a ring indexed by input position: at most WINDOW are outstanding.
  const ring: (Outcome | undefined)[] = new Array(WINDOW);
  const arrived: Outcome[] = [];
  let nextIndex = 0;
  let sent = 0;
  let yielded = 0;
  let firstFailure: Outcome | undefined;
  let sourceDone = false;
  let sourceError: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const settle = (input: Pending, outcome: Outcome) => {
    if (outcome.status !== "SUCCESS" && !returnExceptions && firstFailure === undefined) firstFailure = outcome;
    if (ordered) ring[input.index % WINDOW] = outcome;
    else arrived.push(outcome);
    notify();
  };
  const attempts = new Attempts(provider, spec, { settle });
  const onAbort = () => notify();
  options.signal?.addEventListener("abort", onAbort);

  let filling = false;
  /** Set when the caller has left the loop: a read still in flight must not send anything. */
  let stopped = false;
  const fill = async () => {
    if (filling || sourceDone || stopped) return;
    filling = true;
    try {
      while (!sourceDone && !stopped && sent - yielded < WINDOW && !options.signal?.aborted && firstFailure === undefined) {
        const batch: Pending[] = [];
        while (sent - yielded < WINDOW) {
          const step = isSync ? (source as Iterator<unknown[]>).next() : await (source as AsyncIterator<unknown[]>).next();
          if (step.done) {
            sourceDone = true;
            break;
          }
          if (stopped) return;
          const args = kwargs === undefined ? step.value : [...step.value, kwargs];
          const index = sent++;
          const inputId = newInputId();
          let bytes: Uint8Array;
          try {
            bytes = encode(args, "args");
          } catch (err) {
            settle({ inputId, callId, attempt: 1, args: EMPTY, index, parentInputId }, {
              inputId,
              attempt: 1,
              ...failure(err, false),
            } as Outcome);
            continue;
          }
          batch.push({ inputId, callId, attempt: 1, args: bytes, index, parentInputId });
          if (!isSync) break; // an async source submits as it reads; the provider batches the wire
        }
        if (batch.length > 0) attempts.submit(batch);
      }
    } catch (error) {
      sourceError = { error };
      sourceDone = true;
    } finally {
      filling = false;
      notify();
    }
  };

  // Refill as results are taken, not after a whole run of them: the containers keep working
  // while the caller consumes.
  const take = (o: Outcome): unknown => {
    yielded++;
    if (sent - yielded <= WINDOW - REFILL) void fill();
    return deliver(spec.name, o, returnExceptions);
  };

  try {
    void fill();
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error("map aborted");
      if (firstFailure !== undefined) throw outcomeError(spec.name, firstFailure);
      if (sourceError !== undefined) throw sourceError.error;
      let progressed = false;
      if (ordered) {
        for (let o = ring[nextIndex % WINDOW]; o !== undefined && nextIndex < sent; o = ring[nextIndex % WINDOW]) {
          ring[nextIndex % WINDOW] = undefined;
          nextIndex++;
          progressed = true;
          yield take(o);
        }
      } else {
        for (const o of arrived.splice(0)) {
          progressed = true;
          yield take(o);
        }
      }
      if (sourceDone && !filling && yielded === sent) return;
      if (!progressed) await new Promise<void>((r) => (wake = r));
    }
  } finally {
    stopped = true;
    options.signal?.removeEventListener("abort", onAbort);
    attempts.abortAll();
    if (!sourceDone) await closeSource(source);
  }
}

const EMPTY = new Uint8Array();

function deliver(fnName: string, outcome: Outcome, returnExceptions: boolean): unknown {
  if (outcome.status === "SUCCESS" || !returnExceptions) return unwrap(fnName, outcome);
  return outcomeError(fnName, outcome);
}

async function closeSource(source: AsyncIterator<unknown> | Iterator<unknown>): Promise<void> {
  try {
    await source.return?.();
  } catch {
    // The caller is leaving already; a failing `return()` of their iterator changes nothing.
  }
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
