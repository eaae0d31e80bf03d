/**
 * @module
 * The local provider: containers are OS processes on this machine, one pool per function.
 */
import { deployment } from "./deploy/client.js";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ExecutionError, InvalidError, describe } from "../../core/errors.js";
import type {
  AbortOptions,
  AutoscalerSettings,
  EffectiveAutoscaler,
  FunctionSpec,
  FunctionStats,
  Input,
  OutcomeSink,
  Provider,
} from "../../core/provider.js";
import { CLOSED, Pool, failLater } from "./pool.js";

export interface LocalOptions {
  /**
   * Containers per function when the function sets no `maxContainers`.
   * @default os.availableParallelism()
   */
  maxContainers?: number;
  /** Extra Node.js flags for every container (e.g. `["--enable-source-maps"]`). @default [] */
  execArgv?: string[];
}

const PROVIDER_NAME = "local";

/** The local provider, plus what a local deployment server needs of it. */
export interface LocalProvider extends Provider {
  updateAutoscaler(fn: FunctionSpec, settings: AutoscalerSettings): Promise<EffectiveAutoscaler>;
  getCurrentStats(fn: FunctionSpec): Promise<FunctionStats>;
  /** Stops a function's pool now (its app is destroyed): queued and running inputs end cancelled. */
  retire(fn: FunctionSpec): Promise<void>;
  /** New code for a function: a pool it has hands its queue over now; running inputs finish in the old containers. */
  redeploy(fn: FunctionSpec): void;
}

export function local(options: LocalOptions = {}): LocalProvider {
  if (options === null || typeof options !== "object") {
    throw new InvalidError(`local: options must be an object, got ${describe(options)}`);
  }
  const { maxContainers = availableParallelism(), execArgv = [] } = options;
  if (!Number.isInteger(maxContainers) || maxContainers < 1) {
    throw new InvalidError(`local: maxContainers must be an integer ≥ 1, got ${describe(maxContainers)}`);
  }
  if (!Array.isArray(execArgv) || execArgv.some((a) => typeof a !== "string")) {
    throw new InvalidError(`local: execArgv must be an array of strings, got ${describe(execArgv)}`);
  }
  const pools = new Map<string, Pool>();
  /** Pools handed over to a redeployed function's, while their containers finish. */
  const draining = new Set<Pool>();
  let closed = false;
  // Each spec's key is built once: a lone call looks its pool up by a string whose hash V8 has kept.
  const keys = new WeakMap<FunctionSpec, string>();
  const keyOf = (fn: FunctionSpec): string => {
    let key = keys.get(fn);
    if (key === undefined) keys.set(fn, (key = `${fn.environment}/${fn.app}/${fn.name}`));
    return key;
  };
  const poolOf = (fn: FunctionSpec): Pool => {
    const key = keyOf(fn);
    const current = pools.get(key);
    if (current !== undefined && current.spec === fn) return current;
    const pool = new Pool(fn, { defaultMaxContainers: maxContainers, execArgv: [...containerFlags(fn), ...execArgv] });
    pools.set(key, pool);
    if (current !== undefined) {
      // The same function with new code (a redeploy): nothing queued or running is lost.
      current.handOver(pool);
      draining.add(current);
    }
    return pool;
  };
  return {
    name: PROVIDER_NAME,
    canTerminateContainers: true,
    submit(fn: FunctionSpec, inputs: readonly Input[], sink: OutcomeSink): void {
      if (closed) failLater(inputs, sink, CLOSED);
      else poolOf(fn).submit(inputs, sink);
    },
    abort(fn: FunctionSpec, inputIds: readonly string[], options?: AbortOptions): void {
      pools.get(keyOf(fn))?.abort(inputIds, options);
      for (const pool of draining) {
        if (!pool.draining) draining.delete(pool);
        else if (pool.spec.name === fn.name && pool.spec.app === fn.app) pool.abort(inputIds, options);
      }
    },
    redeploy(fn: FunctionSpec): void {
      if (!closed && pools.has(keyOf(fn))) poolOf(fn);
    },
    async retire(fn: FunctionSpec): Promise<void> {
      const key = keyOf(fn);
      await pools.get(key)?.close();
      pools.delete(key);
    },
    async updateAutoscaler(fn: FunctionSpec, settings: AutoscalerSettings) {
      if (closed) throw new ExecutionError(`updateAutoscaler: the app of function ${JSON.stringify(fn.name)} was closed`);
      return poolOf(fn).configure(settings);
    },
    async getCurrentStats(fn: FunctionSpec) {
      const pool = pools.get(keyOf(fn));
      return pool?.spec === fn ? pool.stats() : { backlog: 0, numTotalRunners: 0, numRunningInputs: 0 };
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all([...pools.values(), ...draining].map((p) => p.close()));
      pools.clear();
      draining.clear();
    },
  };
}

/** Node flags a container needs: a heap limit from `memoryMb`, tsx for TypeScript modules. `execArgv` comes after, so it wins. */
function containerFlags(fn: FunctionSpec): string[] {
  // No V8 heap flag unless asked for: on Node 20 one (--max-semi-space-size, --max-old-space-size)
  // adds ~20 ms to every process's start, and the default young generation measured no more RSS
  // in the 1M-input map (docs/performance.md).
  const flags: string[] = [];
  if (fn.options.memoryMb !== undefined) flags.push(`--max-old-space-size=${fn.options.memoryMb}`);
  if (/\.(c|m)?tsx?$/.test(new URL(fn.module).pathname)) flags.push("--import", tsxLoader(fn.module));
  return flags;
}

function tsxLoader(moduleUrl: string): string {
  for (const base of [moduleUrl, import.meta.url]) {
    try {
      return pathToFileURL(createRequire(fileURLToPath(base)).resolve("tsx/esm")).href;
    } catch {
      // try the next place
    }
  }
  throw new InvalidError(`function module ${moduleUrl} is TypeScript: install tsx (npm i -D tsx) to run it in containers`);
}

export { deployment, type DeploymentOptions, type DeploymentProvider } from "./deploy/client.js";

/** `FAASADE_PROVIDER=local` (the default): containers on this machine. */
export const defaultProvider = (): LocalProvider => local();
/** Handles by name and call ids without a provider: the local deployment under FAASADE_HOME. */
export { deployment as defaultDeployment };
