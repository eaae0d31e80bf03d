/** `Function_` (also exported as `Function`): a handle to one function, defined here or by name. */
import type { App } from "./app.js";
import { newPending } from "./attempts.js";
import { currentStats, updateAutoscaler } from "./autoscaler.js";
import { recordCall, recordInput } from "./call-graph.js";
import { CallRecord, callRecords } from "./call-record.js";
import { decode, encode } from "./codec.js";
import { currentInput } from "./context.js";
import { ExecutionError, InvalidError, NotFoundError, describe } from "./errors.js";
import { FunctionCall } from "./function-call.js";
import { newCallId, newInputId } from "./ids.js";
import { refuseWhileImporting } from "./importing.js";
import { rideThrough } from "./transport.js";
import { type MapOptions, type MapSetup, type Target, splitMapArgs, zip } from "./map.js";
import { type AutoscalerSettings, NAME_PATTERN } from "./options.js";
import { outcomeError, unwrap } from "./outcome.js";
import type { EffectiveAutoscaler, FunctionSpec, FunctionStats, Outcome, Provider } from "./provider.js";
import { defaultDeployment } from "./providers.js";
import { findApp } from "./registry.js";
import { MapRun } from "./map-run.js";
import type { Allows, AnyFunction, FunctionKind, KindOf, ResultOf, YieldOf } from "./kinds.js";
import { runOne, start } from "./submit.js";
import { markStarted, trackUnconsumed } from "./unconsumed.js";

export type { AnyFunction, ResultOf, YieldOf } from "./kinds.js";
type ArgsIterable<T> = Iterable<T> | AsyncIterable<T>;

/** A spawned call of a handle of kind `K`: a generator's yields its values, a plain one's its result. */
type SpawnedCall<F extends AnyFunction, K extends FunctionKind> = [K] extends ["generator"]
  ? FunctionCall<YieldOf<F>, "generator">
  : [K] extends ["plain"]
    ? FunctionCall<ResultOf<F>, "plain">
    : FunctionCall<ResultOf<F>>;

export interface FromNameOptions {
  environment?: string;
  provider?: Provider;
}

export interface ForEachOptions {
  kwargs?: Record<string, unknown>;
  /** @default false: rejects with the first failure. */
  ignoreExceptions?: boolean;
}

/** What a definition gives its handle; `fromName` handles get it on hydration. */
export interface Definition<F extends AnyFunction> {
  readonly app: App;
  readonly raw: F;
  readonly spec: FunctionSpec;
}

/**
 * `F` is the function's type; `K` its kind (see `FunctionKind`), which decides which methods
 * type-check: `remote`, `map`, `starmap` and `forEach` for plain functions, `remoteGen` for
 * generators, `spawn` for both, none of them for web functions.
 */
export class Function_<F extends AnyFunction = AnyFunction, K extends FunctionKind = KindOf<F>> {
  readonly appName: string;
  readonly name: string;
  readonly #environment: string;
  readonly #provider: Provider | undefined;
  #definition: Definition<F> | undefined;
  /** A function found in a deployment (not defined in this process). */
  #deployed: { spec: FunctionSpec; provider: Provider } | undefined;
  readonly #fromName: boolean;

  /** @internal use `app.function` or `Function_.fromName`. */
  constructor(appName: string, name: string, environment: string, definition?: Definition<F>, provider?: Provider) {
    this.appName = appName;
    this.name = name;
    this.#environment = environment;
    this.#definition = definition;
    this.#provider = provider;
    this.#fromName = definition === undefined;
  }

  /**
   * A lazy handle: no I/O now; a missing app or function throws `NotFoundError` at first use.
   * `F` types its calls (`fromName<typeof square>`); `K` defaults to what `F` tells (give `"web"`
   * for a web function). Without `F`, any call type-checks and the runtime check decides.
   */
  static fromName<F extends AnyFunction = AnyFunction, K extends FunctionKind = KindOf<F>>(
    appName: string,
    name: string,
    options: FromNameOptions = {},
  ): Function_<F, K> {
    if (typeof appName !== "string" || !/^[a-z][a-z0-9-]{0,39}$/.test(appName)) {
      throw new InvalidError(`Function.fromName: invalid app name ${describe(appName)}`);
    }
    if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
      throw new InvalidError(`Function.fromName: invalid function name ${describe(name)}; it must match ${NAME_PATTERN}`);
    }
    return new Function_<F, K>(appName, name, options.environment ?? "main", undefined, options.provider);
  }

  /** Eager: resolves the function or rejects with `NotFoundError`. */
  static async lookup<F extends AnyFunction = AnyFunction, K extends FunctionKind = KindOf<F>>(
    appName: string,
    name: string,
    options?: FromNameOptions,
  ): Promise<Function_<F, K>> {
    return Function_.fromName<F, K>(appName, name, options).hydrate();
  }

  get isGenerator(): boolean {
    return this.#definition?.spec.isGenerator ?? this.#deployed?.spec.isGenerator ?? false;
  }

  /** Resolves the handle now; returns `this`. */
  async hydrate(): Promise<this> {
    await this.#resolve();
    return this;
  }

  /** Runs one input remotely and resolves with its result. */
  remote(this: Allows<K, "plain", "remote">, ...args: Parameters<F>): Promise<ResultOf<F>>;
  async remote(...args: Parameters<F>): Promise<ResultOf<F>> {
    // A function defined here resolves without a promise once its provider is known: a lone call's latency counts.
    const target = this.#targetNow() ?? (await this.#resolve());
    this.#check(target.spec, "remote");
    const outcome = await runOne(target, args, undefined);
    return unwrap(this.name, outcome) as ResultOf<F>;
  }

  /** Generator functions only: yields each value as soon as the remote side yields it. */
  remoteGen(this: Allows<K, "generator", "remoteGen">, ...args: Parameters<F>): AsyncGenerator<YieldOf<F>, void, undefined>;
  async *remoteGen(...args: Parameters<F>): AsyncGenerator<YieldOf<F>, void, undefined> {
    const target = await this.#resolve();
    if (!target.spec.isGenerator) {
      throw new InvalidError(`function ${JSON.stringify(this.name)} is not a generator: call it with remote()`);
    }
    const chunks: Uint8Array[] = [];
    let done: Outcome | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const { attempts } = start(target, args, {
      settle: (_, o) => {
        done = o;
        notify();
      },
      chunk: (_, v) => {
        chunks.push(v);
        notify();
      },
    });
    try {
      for (;;) {
        while (chunks.length > 0) yield decode(chunks.shift() as Uint8Array) as YieldOf<F>;
        if (done !== undefined) {
          if (done.status !== "SUCCESS") throw outcomeError(this.name, done);
          return;
        }
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      attempts.abortAll();
    }
  }

  /** Calls the original function in this process. */
  local(...args: Parameters<F>): ReturnType<F> {
    return this.getRawF()(...args);
  }

  /** Queues one input and resolves with its `FunctionCall` once queued. */
  spawn(this: Allows<K, "plain" | "generator", "spawn">, ...args: Parameters<F>): Promise<SpawnedCall<F, K>>;
  async spawn(...args: Parameters<F>): Promise<FunctionCall<unknown>> {
    const target = await this.#resolve();
    if (target.spec.options.web) throw webMisuse(this.name, "spawn");
    const store = target.provider.calls;
    const callId = store?.newCallId?.(target.spec) ?? newCallId();
    if (store !== undefined) {
      // A deployment: acknowledged once stored there, readable from any process.
      const input = newPending(newInputId(), callId, encode(args, "args"), 0, target.parentInputId);
      // Sent again after a broken connection: the deployment stores a call id once.
      await rideThrough(() => store.spawn(target.spec, input));
      if (target.parentInputId !== undefined) {
        // Made inside an input: its parent's tree names it here; its own records say how it ends.
        recordCall(callId, target.parentInputId, target.spec);
        recordInput(callId, input.inputId, "PENDING");
      }
      return new FunctionCall(callId, store);
    }
    const record = new CallRecord(callId, this.name, target.spec.isGenerator);
    callRecords.set(callId, record);
    const { attempts } = start(
      target,
      args,
      { settle: (_, o) => record.complete(o), chunk: (_, v) => record.pushChunk(v) },
      callId,
      true,
    );
    record.canTerminateContainers = target.provider.canTerminateContainers === true;
    record.cancel = ({ terminateContainers }) =>
      attempts.abortAll({ terminateContainers: terminateContainers === true, settle: true });
    return new FunctionCall(callId);
  }

  /** A lazy `AsyncIterable` of results; nothing is sent until iteration starts. */
  map(
    this: Allows<K, "plain", "map">,
    ...args: [...iterables: ArgsIterable<unknown>[], options: MapOptions] | ArgsIterable<unknown>[]
  ): AsyncIterable<ResultOf<F>>;
  map(
    ...args: [...iterables: ArgsIterable<unknown>[], options: MapOptions] | ArgsIterable<unknown>[]
  ): AsyncIterable<ResultOf<F>> {
    return this.#map(args);
  }

  #map(args: [...iterables: ArgsIterable<unknown>[], options: MapOptions] | ArgsIterable<unknown>[]): AsyncIterable<ResultOf<F>> {
    return this.#lazyMap("map", () => {
      const { iterables, options } = splitMapArgs("map", args);
      return { ...zip(iterables), options };
    });
  }

  /** Like `map`, each item an argument tuple. */
  starmap(
    this: Allows<K, "plain", "starmap">,
    iterable: ArgsIterable<Parameters<F>>,
    options?: MapOptions,
  ): AsyncIterable<ResultOf<F>>;
  starmap(iterable: ArgsIterable<Parameters<F>>, options: MapOptions = {}): AsyncIterable<ResultOf<F>> {
    return this.#lazyMap("starmap", () => {
      const { options: checked } = splitMapArgs("starmap", [[], options]);
      const { source, isSync } = zip([iterable]);
      const unwrapTuple = (step: IteratorResult<unknown[]>) => {
        if (step.done) return step;
        const tuple = step.value[0];
        if (!Array.isArray(tuple)) throw new InvalidError(`starmap: each item must be an argument array, got ${describe(tuple)}`);
        return { done: false, value: tuple } as IteratorResult<unknown[]>;
      };
      const tuples = isSync
        ? {
            next: () => unwrapTuple((source as Iterator<unknown[]>).next()),
            return: (source as Iterator<unknown[]>).return?.bind(source),
          }
        : {
            next: async () => unwrapTuple(await (source as AsyncIterator<unknown[]>).next()),
            return: (source as AsyncIterator<unknown[]>).return?.bind(source),
          };
      return { source: tuples as Iterator<unknown[]>, isSync, options: checked };
    });
  }

  /** Runs every input and discards results. */
  forEach(
    this: Allows<K, "plain", "forEach">,
    ...args: [...iterables: ArgsIterable<unknown>[], options: ForEachOptions] | ArgsIterable<unknown>[]
  ): Promise<void>;
  async forEach(
    ...args: [...iterables: ArgsIterable<unknown>[], options: ForEachOptions] | ArgsIterable<unknown>[]
  ): Promise<void> {
    const { iterables, options } = splitMapArgs("forEach", args);
    const { ignoreExceptions, ...rest } = options as MapOptions & ForEachOptions;
    const mapOptions: MapOptions = { ...rest, returnExceptions: ignoreExceptions === true, orderOutputs: false };
    for await (const _ of this.#map([...iterables, mapOptions])) {
      // results are discarded
    }
  }

  /** Keeps at least `n` containers warm: `updateAutoscaler({ minContainers: n })`. */
  async keepWarm(n: number): Promise<EffectiveAutoscaler> {
    const { spec, provider } = await this.#resolve();
    return updateAutoscaler(spec, provider, { minContainers: n }, "keepWarm");
  }

  /**
   * A partial update of the autoscaler; resolves with the effective settings and the ones the
   * provider cannot honour (`unsupported`). Invalid merged settings reject and change nothing.
   */
  async updateAutoscaler(settings: Partial<AutoscalerSettings>): Promise<EffectiveAutoscaler> {
    const { spec, provider } = await this.#resolve();
    return updateAutoscaler(spec, provider, settings);
  }

  /** `{ backlog, numTotalRunners, numRunningInputs }` now. */
  async getCurrentStats(): Promise<FunctionStats> {
    const { spec, provider } = await this.#resolve();
    return currentStats(spec, provider);
  }

  /** The HTTP URL of a web function; `undefined` for other functions. Hydrates a lazy handle first. */
  async getWebUrl(): Promise<string | undefined> {
    const { spec, provider } = await this.#resolve();
    if (!spec.options.web) return undefined;
    const url = await rideThrough(async () => provider.webUrl?.(spec));
    if (url !== undefined) return url;
    throw new ExecutionError(
      `function ${JSON.stringify(this.name)} is a web endpoint: it is served once deployed (faasade deploy <file>), then reach it with Function.fromName("${this.appName}", "${this.name}")`,
    );
  }

  /** @internal what a definition in this process knows; `NotFoundError` for a handle by name with none here */
  definition(): Definition<F> {
    return this.#bind();
  }

  /** The original function. */
  getRawF(): F {
    if (this.#fromName || this.#definition === undefined) {
      throw new ExecutionError(
        `function ${JSON.stringify(this.name)} of app ${JSON.stringify(this.appName)} has no definition in this handle: it was looked up by name`,
      );
    }
    return this.#definition.raw;
  }

  #lazyMap(method: string, prepare: () => MapSetup): AsyncIterable<ResultOf<F>> {
    const setup = async (): Promise<MapSetup & { target: Target }> => {
      const prepared = prepare();
      const target = await this.#resolve();
      this.#check(target.spec, method);
      return { ...prepared, target };
    };
    const iterable = {
      [Symbol.asyncIterator]: () => {
        markStarted(marker);
        return new MapRun(setup) as AsyncIterableIterator<ResultOf<F>>;
      },
    };
    const marker = trackUnconsumed(iterable, `${method}() of function ${JSON.stringify(this.name)}`);
    return iterable;
  }

  #bind(): Definition<F> {
    if (this.#definition === undefined) {
      const app = findApp(this.appName, this.#environment);
      if (app === undefined) {
        throw new NotFoundError(
          `app ${JSON.stringify(this.appName)} (environment ${JSON.stringify(this.#environment)}) is not defined in this process`,
        );
      }
      const fn = app.functionByName(this.name);
      if (fn === undefined)
        throw new NotFoundError(`app ${JSON.stringify(this.appName)} has no function ${JSON.stringify(this.name)}`);
      this.#definition = fn.#bind() as unknown as Definition<F>;
    }
    return this.#definition;
  }

  /** The target of a definition in this process whose provider is known, without waiting. */
  #targetNow(): Target | undefined {
    refuseWhileImporting(this.name);
    const def = this.#definition;
    const provider = this.#provider ?? def?.app.provider;
    if (def === undefined || provider === undefined) return undefined;
    return { spec: def.spec, provider, parentInputId: currentInput()?.inputId };
  }

  async #target(): Promise<Target> {
    const def = this.#bind();
    const provider = this.#provider ?? (await def.app.loadProvider());
    return { spec: def.spec, provider, parentInputId: currentInput()?.inputId };
  }

  /**
   * Where calls go: a provider that finds deployed functions (a deployment), else the definition
   * in this process, else the local deployment under FAASADE_HOME.
   */
  async #resolve(): Promise<Target> {
    refuseWhileImporting(this.name);
    const parentInputId = currentInput()?.inputId;
    if (this.#definition === undefined && this.#deployed === undefined) {
      const explicit = this.#provider;
      const deployment = explicit?.lookup !== undefined ? explicit : undefined;
      if (deployment === undefined && (explicit !== undefined || findApp(this.appName, this.#environment) !== undefined)) {
        return this.#target();
      }
      const from = deployment ?? (await defaultDeployment());
      if (from?.lookup === undefined) return this.#target(); // NotFoundError: not defined here, nowhere else to look
      const lookup = from.lookup.bind(from);
      this.#deployed = { spec: await rideThrough(() => lookup(this.appName, this.#environment, this.name)), provider: from };
    }
    if (this.#deployed !== undefined) return { ...this.#deployed, parentInputId };
    return this.#target();
  }

  #check(spec: FunctionSpec, method: string): void {
    if (spec.options.web) throw webMisuse(this.name, method);
    if (spec.isGenerator) {
      throw new InvalidError(`function ${JSON.stringify(this.name)} is a generator: ${method}() is not allowed, use remoteGen()`);
    }
  }
}

function webMisuse(name: string, method: string): InvalidError {
  return new InvalidError(
    `function ${JSON.stringify(name)} is a web endpoint: call it over HTTP (getWebUrl()), not with ${method}()`,
  );
}
