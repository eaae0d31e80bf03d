/** `FunctionCall`: a handle to a spawned call, and `gather`. */
import { type InputInfo, callGraph } from "./call-graph.js";
import { type CallRecord, callRecords } from "./call-record.js";
import { decode } from "./codec.js";
import { ExecutionError, InvalidError, NotFoundError, OutputExpiredError, TimeoutError, describe } from "./errors.js";
import { outcomeError, unwrap } from "./outcome.js";
import type { CallAllows, CallKind } from "./kinds.js";
import { defaultDeployment } from "./providers.js";
import type { AbortOptions, CallState, CallStore, Provider } from "./provider.js";
import { deadlineIn, rideThrough } from "./transport.js";

export interface FromIdOptions {
  provider?: Provider;
  isGenerator?: boolean;
}

export interface GetOptions {
  /** No value: wait as long as it takes. `0`: poll once. */
  timeoutMs?: number;
}

/**
 * `R` is what the call gives back (its result, or each value of a generator call); `K` its kind
 * (`"plain"`: read with `get()`; `"generator"`: read with `getGen()`), both when not known.
 */
export class FunctionCall<R = unknown, K extends CallKind = CallKind> {
  /** The id; the same string as `functionCallId`. */
  readonly objectId: string;
  /** Where a durable call lives (a deployment); undefined: this process, else the local deployment. */
  readonly #store: CallStore | undefined;

  /** @internal use `Function_.spawn` or `FunctionCall.fromId`. */
  constructor(functionCallId: string, store?: CallStore) {
    if (typeof functionCallId !== "string" || !/^fc-[\w-]{1,80}$/.test(functionCallId)) {
      throw new InvalidError(`FunctionCall: invalid call id ${describe(functionCallId)}`);
    }
    this.objectId = functionCallId;
    this.#store = store;
  }

  /** A lazy handle: nothing is looked up until `get`. `isGenerator` tells its kind to the compiler only. */
  static fromId<R = unknown>(
    functionCallId: string,
    options: FromIdOptions & { isGenerator: true },
  ): FunctionCall<R, "generator">;
  static fromId<R = unknown>(functionCallId: string, options: FromIdOptions & { isGenerator: false }): FunctionCall<R, "plain">;
  static fromId<R = unknown>(functionCallId: string, options?: FromIdOptions): FunctionCall<R>;
  static fromId<R = unknown>(functionCallId: string, options: FromIdOptions = {}): FunctionCall<R> {
    return new FunctionCall<R>(functionCallId, options.provider?.calls);
  }

  get functionCallId(): string {
    return this.objectId;
  }

  /** Resolves with the result; rejects with the call's error, or `TimeoutError` at the deadline. */
  get(this: CallAllows<K, "plain", "get">, options?: GetOptions): Promise<R>;
  async get(options: GetOptions = {}): Promise<R> {
    const timeoutMs = checkTimeout(options);
    const store = await this.#durable();
    if (store !== undefined) return this.#getDurable(store, timeoutMs);
    const record = this.record();
    if (record.isGenerator) throw new InvalidError(`call ${this.objectId} is a generator call: read it with getGen()`);
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
    while (record.outcome === undefined) {
      const left = deadline - performance.now();
      if (left <= 0) throw new TimeoutError(`call ${this.objectId} is still running after ${timeoutMs} ms`);
      await record.changed(Number.isFinite(left) ? left : undefined);
    }
    return unwrap(record.functionName, record.outcome) as R;
  }

  /** @internal whether this is a generator call, read with `getGen()` (the CLI's `get` prints either kind). */
  async isGeneratorCall(options: GetOptions = {}): Promise<boolean> {
    const deadline = deadlineIn(checkTimeout(options));
    const store = await this.#durable();
    if (store === undefined) return this.record().isGenerator;
    return (await rideThrough(() => store.state(this.objectId, 0), { deadline })).isGenerator;
  }

  /** For a spawned generator call: every value it yields, from the first, as produced. */
  getGen(this: CallAllows<K, "generator", "getGen">): AsyncGenerator<R, void, undefined>;
  async *getGen(): AsyncGenerator<R, void, undefined> {
    const store = await this.#durable();
    if (store !== undefined) {
      yield* this.#genDurable(store);
      return;
    }
    const record = this.record();
    if (!record.isGenerator) throw new InvalidError(`call ${this.objectId} is not a generator call: read it with get()`);
    let next = 0;
    for (;;) {
      while (next < record.chunks.length) yield decode(record.chunks[next++] as Uint8Array) as R;
      const outcome = record.outcome;
      if (outcome !== undefined && next >= record.chunks.length) {
        if (outcome.status !== "SUCCESS") throw outcomeError(record.functionName, outcome);
        return;
      }
      await record.changed();
    }
  }

  /**
   * Cancels the call: queued inputs never run, running ones see their signal abort (with
   * `terminateContainers`, their containers stop and their other inputs run elsewhere), and
   * `get` rejects with `InputCancelledError`. Never retried. A finished call is left as it is.
   */
  async cancel(options: AbortOptions = {}): Promise<void> {
    if (options === null || typeof options !== "object") {
      throw new InvalidError(`cancel: options must be an object, got ${describe(options)}`);
    }
    const { terminateContainers } = options;
    if (terminateContainers !== undefined && typeof terminateContainers !== "boolean") {
      throw new InvalidError(`cancel: terminateContainers must be a boolean, got ${describe(terminateContainers)}`);
    }
    const store = await this.#durable();
    const record = store === undefined ? this.record() : undefined;
    if (record !== undefined && record.cancel === undefined) return; // finished: nothing to cancel
    // One check for every provider: where containers cannot be stopped one by one, say so rather than pretend.
    if (terminateContainers === true && (store ?? record)?.canTerminateContainers !== true) {
      throw new ExecutionError(
        `cancel: where call ${this.objectId} runs, containers cannot be terminated; cancel without terminateContainers`,
      );
    }
    if (store !== undefined) {
      await rideThrough(() => store.cancel(this.objectId, { terminateContainers: terminateContainers === true }));
    } else record?.cancel?.({ terminateContainers: terminateContainers === true });
  }

  /** The tree of this call and of every call made from inside it, transitively. */
  async getCallGraph(): Promise<InputInfo[]> {
    const store = await this.#durable();
    if (store !== undefined) return rideThrough(() => store.callGraph(this.objectId));
    this.record();
    return callGraph(this.objectId);
  }

  /** The store of a durable call: given, or the local deployment's when this process never saw the call. */
  async #durable(): Promise<CallStore | undefined> {
    if (this.#store !== undefined) return this.#store;
    if (callRecords.has(this.objectId)) return undefined;
    return (await defaultDeployment()).calls;
  }

  async #getDurable(store: CallStore, timeoutMs: number | undefined): Promise<R> {
    // Monotonic: a jump of the wall clock neither ends the wait early nor makes it endless.
    const deadline = deadlineIn(timeoutMs);
    for (;;) {
      const left = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - performance.now();
      const waitMs = Math.max(0, Math.min(left, 25_000));
      const state: CallState = await rideThrough(() => store.state(this.objectId, waitMs), { deadline });
      if (state.isGenerator) throw new InvalidError(`call ${this.objectId} is a generator call: read it with getGen()`);
      if (state.state === "expired") throw expired(this.objectId);
      if (state.state === "done" && state.outcome !== undefined) return unwrap(state.fn, state.outcome) as R;
      if (deadline !== undefined && deadline - performance.now() <= 0) {
        throw new TimeoutError(`call ${this.objectId} is still running after ${timeoutMs} ms`);
      }
    }
  }

  async *#genDurable(store: CallStore): AsyncGenerator<R, void, undefined> {
    let next = 0;
    for (;;) {
      const got = await rideThrough(() => store.chunks(this.objectId, next, 25_000));
      if (!got.isGenerator) throw new InvalidError(`call ${this.objectId} is not a generator call: read it with get()`);
      if (got.state === "expired") throw expired(this.objectId);
      for (const chunk of got.chunks) {
        next++;
        yield decode(chunk) as R;
      }
      if (got.state === "done" && got.chunks.length === 0 && got.outcome !== undefined) {
        if (got.outcome.status !== "SUCCESS") throw outcomeError(got.fn, got.outcome);
        return;
      }
    }
  }

  private record(): CallRecord {
    const record = callRecords.get(this.objectId);
    if (record === undefined) {
      throw new NotFoundError(
        `call ${this.objectId} is not known to this process; calls of an ephemeral app live only in the process that made them`,
      );
    }
    return record;
  }
}

/** Every durable store says "expired" the same way; the error is the core's, for every provider. */
function expired(callId: string): OutputExpiredError {
  return new OutputExpiredError(
    `the result of call ${callId} has expired (it is kept for the retention period after the call finishes)`,
  );
}

function checkTimeout(options: GetOptions): number | undefined {
  if (options === null || typeof options !== "object") {
    throw new InvalidError(`get: options must be an object, got ${describe(options)}`);
  }
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !(timeoutMs >= 0))) {
    throw new InvalidError(`get: timeoutMs must be a number ≥ 0, got ${describe(timeoutMs)}`);
  }
  return timeoutMs;
}

/** Results in argument order, or the first failure to occur; the other calls go on running. */
export async function gather<T extends readonly FunctionCall<unknown>[]>(
  ...calls: T
): Promise<{ -readonly [K in keyof T]: T[K] extends FunctionCall<infer R> ? R : never }> {
  calls.forEach((call, i) => {
    if (!(call instanceof FunctionCall))
      throw new InvalidError(`gather: argument ${i} is not a FunctionCall, got ${describe(call)}`);
  });
  return (await Promise.all(calls.map((call) => call.get()))) as never;
}
