/** `App`: a named group of functions, and the provider that runs them. */
import { ENTRYPOINT_SCHEDULED, callerModule, isEntryModule } from "./caller.js";
import { InvalidError, describe } from "./errors.js";
import { type AnyFunction, Function_ } from "./function.js";
import type { FunctionKind } from "./kinds.js";
import { type FunctionOptions, type WebOptions, resolveOptions } from "./options.js";
import type { FunctionSpec, Provider } from "./provider.js";
import { loadProvider, providerName } from "./providers.js";
import { inContainer, registerApp, unregisterApp } from "./registry.js";

/** The options of `new App(name, options)`; the name matches `/^[a-z][a-z0-9-]{0,39}$/`. */
export interface AppOptions {
  /**
   * The provider that runs the app's functions: `local()` from `faasade/local`, `aws()` from
   * `faasade/aws`.
   * @default the provider `FAASADE_PROVIDER` names (`local` or `aws`), with its defaults; without it, `local()`
   */
  provider?: Provider;
  /**
   * The environment the app is deployed in: apps of one name in different environments are
   * separate. Matches `/^[a-z][a-z0-9-]{0,39}$/`.
   * @default "main"
   */
  environment?: string;
}

const APP_NAME = /^[a-z][a-z0-9-]{0,39}$/;

export class App {
  readonly name: string;
  readonly environment: string;
  readonly #functions = new Map<string, Function_>();
  #provider: Provider | undefined;
  #loading: Promise<Provider> | undefined;
  #closed = false;

  constructor(name: string, options: AppOptions = {}) {
    if (typeof name !== "string" || !APP_NAME.test(name)) {
      throw new InvalidError(`new App: invalid app name ${describe(name)}; it must match ${APP_NAME}`);
    }
    if (options === null || typeof options !== "object") {
      throw new InvalidError(`new App: options must be an object, got ${describe(options)}`);
    }
    const environment = options.environment ?? "main";
    if (typeof environment !== "string" || !APP_NAME.test(environment)) {
      throw new InvalidError(`new App: invalid environment ${describe(environment)}; it must match ${APP_NAME}`);
    }
    this.name = name;
    this.environment = environment;
    this.#provider = options.provider;
    registerApp(this);
  }

  /** The provider that runs this app's functions, once known (given, or loaded by `loadProvider`). */
  get provider(): Provider | undefined {
    return this.#provider;
  }

  /** The provider, loading `faasade/<FAASADE_PROVIDER>` (default local) on first use. */
  loadProvider(): Promise<Provider> {
    if (this.#provider !== undefined) return Promise.resolve(this.#provider);
    this.#loading ??= loadProvider(providerName()).then((m) => {
      this.#provider ??= m.defaultProvider();
      return this.#provider;
    });
    return this.#loading;
  }

  /**
   * Defines a function of this app. Its containers import the module that made this call. The
   * handle's kind (see `FunctionKind`) is `"web"` with `web` options, else what `fn`'s type tells.
   */
  function<F extends AnyFunction>(fn: F, options: FunctionOptions & { web: WebOptions }): Function_<F, "web">;
  function<F extends AnyFunction>(fn: F, options?: FunctionOptions): Function_<F>;
  function<F extends AnyFunction>(fn: F, options?: FunctionOptions): Function_<F, FunctionKind> {
    const isGenerator = isGeneratorFunction(fn);
    const resolved = resolveOptions(fn, options, isGenerator);
    if (this.#functions.has(resolved.name)) {
      throw new InvalidError(`app ${JSON.stringify(this.name)} already has a function named ${JSON.stringify(resolved.name)}`);
    }
    const module = options?.module === undefined ? callerModule() : String(options.module);
    if (module === undefined) {
      throw new InvalidError(
        `function ${JSON.stringify(resolved.name)}: cannot tell which module defines it; pass options.module`,
      );
    }
    const spec: FunctionSpec = Object.freeze({
      app: this.name,
      environment: this.environment,
      name: resolved.name,
      module,
      isGenerator,
      options: resolved,
    });
    const handle = new Function_<F, FunctionKind>(this.name, resolved.name, this.environment, { app: this, raw: fn, spec });
    this.#functions.set(resolved.name, handle as unknown as Function_);
    return handle;
  }

  /** @internal */
  functionByName(name: string): Function_ | undefined {
    return this.#functions.get(name);
  }

  /** @internal the functions defined so far, in order */
  functions(): IterableIterator<Function_> {
    return this.#functions.values();
  }

  /**
   * Runs `fn` once the defining module has finished evaluating, only when that module is the
   * program's entry, never inside a container. When it settles the app closes; a rejection
   * sets a non-zero exit code.
   */
  localEntrypoint(fn: () => unknown): void {
    if (typeof fn !== "function") throw new InvalidError(`localEntrypoint: expected a function, got ${describe(fn)}`);
    const module = callerModule();
    if (inContainer() || module === undefined || !isEntryModule(module)) return;
    (globalThis as Record<symbol, unknown>)[ENTRYPOINT_SCHEDULED] = true;
    setImmediate(async () => {
      try {
        await fn();
      } catch (err) {
        process.exitCode = 1;
        console.error(err);
      } finally {
        await this.close();
      }
    });
  }

  /** Stops containers and releases resources. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    unregisterApp(this);
    // A provider still loading is closed once it has loaded: nothing it starts outlives the app.
    const provider = this.#provider ?? (await this.#loading?.catch(() => undefined));
    await provider?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function isGeneratorFunction(fn: unknown): boolean {
  const tag = (fn as { [Symbol.toStringTag]?: string } | null)?.[Symbol.toStringTag];
  return tag === "GeneratorFunction" || tag === "AsyncGeneratorFunction";
}
