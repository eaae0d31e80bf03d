/**
 * A stand-in for `@azure/functions-core` (a test double), the module the Functions host's Node worker
 * provides to `@azure/functions`: without it the package runs in "test mode" and registers nothing. The
 * package `require`s it lazily, on its first registration (a CommonJS require, also when the package itself
 * was imported from ESM), so it is answered from node's CommonJS loader: installed before the runtime
 * registers, it captures each registration's trigger and binding metadata and its handler, as the worker
 * would hand them to the host.
 */
import Module from "node:module";

/** A binding as `@azure/functions` describes it to the host (`toCoreFunctionMetadata`). */
export interface CoreBinding {
  type: string;
  direction: "in" | "out";
  name: string;
  [option: string]: unknown;
}

/** One registered function: its metadata and its handler. */
export interface Registration {
  name: string;
  bindings: Record<string, CoreBinding>;
  retryOptions?: unknown;
  /** The trigger binding (the `in` binding whose type ends with "Trigger"). */
  trigger: CoreBinding;
  handler: (...args: unknown[]) => unknown;
}

/** What an instance tells the host of each registration (its handler stays in the instance). */
export interface RegisteredFunction {
  name: string;
  trigger: CoreBinding;
}

export interface CapturedCore {
  readonly functions: Map<string, Registration>;
  readonly hooks: Map<string, ((...args: unknown[]) => unknown)[]>;
  /** What the package set as its programming model (`@azure/functions`' own). */
  readonly model: () => unknown;
}

const CORE = "@azure/functions-core";
let captured: CapturedCore | undefined;

/** Installs the stand-in in this process (once) and returns what it captures. */
export function installFunctionsCore(): CapturedCore {
  if (captured !== undefined) return captured;
  const functions = new Map<string, Registration>();
  const hooks = new Map<string, ((...args: unknown[]) => unknown)[]>();
  let model: unknown;
  const disposable = (dispose: () => void) => ({ dispose });
  const core = {
    version: "faasade-stand-in",
    hostVersion: "4.1000.0",
    setProgrammingModel(m: unknown) {
      model = m;
    },
    getProgrammingModel: () => model,
    registerFunction(
      metadata: { name: string; bindings: Record<string, CoreBinding>; retryOptions?: unknown },
      handler: Registration["handler"],
    ) {
      const trigger = Object.values(metadata.bindings).find((b) => b.direction === "in" && /trigger$/i.test(b.type));
      if (trigger === undefined) throw new Error(`faasade: function ${JSON.stringify(metadata.name)} has no trigger binding`);
      functions.set(metadata.name, { ...metadata, trigger, handler });
      return disposable(() => functions.delete(metadata.name));
    },
    registerHook(name: string, callback: (...args: unknown[]) => unknown) {
      const list = hooks.get(name) ?? [];
      list.push(callback);
      hooks.set(name, list);
      return disposable(() => list.splice(list.indexOf(callback), 1));
    },
    // Its presence tells the package the host can stream HTTP (host 4.28 or later).
    log(level: string, category: string, message: string) {
      if (level === "error" || level === "critical" || level === "warning") console.error(`[${category}] ${message}`);
    },
  };
  const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
  const load = loader._load;
  loader._load = function (this: unknown, request: string, ...rest: unknown[]) {
    return request === CORE ? core : load.call(this, request, ...rest);
  };
  captured = { functions, hooks, model: () => model };
  return captured;
}
