/**
 * An in-memory provider: runs inputs in this process through the same executor as every
 * container. For unit tests of the core; it cannot stop sync code, so it never kills and
 * cannot terminate containers. It honours `maxContainers` (with `maxInputs`, as a limit on
 * inputs running at once) and reports exact stats; it has no containers to keep warm.
 */
import { InputContext } from "../core/context.js";
import { execute } from "../core/executor.js";
import type { EffectiveAutoscaler, FunctionSpec, FunctionStats, Input, OutcomeSink, Provider } from "../core/provider.js";
import { findApp } from "../core/registry.js";

export interface MemoryProvider extends Provider {
  /** Every input ever submitted, in order (attempts included). */
  readonly submitted: Input[];
  /** Every input id aborted. */
  readonly aborted: string[];
}

interface Queued {
  fn: FunctionSpec;
  input: Input;
  sink: OutcomeSink;
}

/** Per function: its inputs waiting for a slot, those running, and its current `maxContainers`. */
interface Lane {
  queue: Queued[];
  running: number;
  maxContainers: number | undefined;
}

export function memoryProvider(): MemoryProvider {
  const submitted: Input[] = [];
  const aborted: string[] = [];
  /** Queued (undefined) or running (its context) inputs. */
  const live = new Map<string, InputContext | undefined>();
  const lanes = new Map<FunctionSpec, Lane>();
  const laneOf = (fn: FunctionSpec): Lane => {
    let lane = lanes.get(fn);
    if (lane === undefined) {
      lane = { queue: [], running: 0, maxContainers: fn.options.maxContainers };
      lanes.set(fn, lane);
    }
    return lane;
  };
  const limit = (fn: FunctionSpec, lane: Lane) =>
    lane.maxContainers === undefined ? Number.POSITIVE_INFINITY : lane.maxContainers * fn.options.maxInputs;

  const pump = (lane: Lane) => {
    while (lane.queue.length > 0) {
      const next = lane.queue[0] as Queued;
      if (!live.has(next.input.inputId)) {
        lane.queue.shift(); // aborted while queued
        continue;
      }
      if (lane.running >= limit(next.fn, lane)) return;
      lane.queue.shift();
      lane.running++;
      run(next, () => {
        lane.running--;
        pump(lane);
      });
    }
  };

  const run = ({ fn, input, sink }: Queued, free: () => void) => {
    const raw = findApp(fn.app, fn.environment)?.functionByName(fn.name)?.getRawF();
    if (raw === undefined) {
      live.delete(input.inputId);
      free();
      sink.outcome(input, { inputId: input.inputId, attempt: input.attempt, status: "INIT_FAILURE", message: "not defined" });
      return;
    }
    const ctx = new InputContext(input.inputId, input.callId, input.attempt);
    live.set(input.inputId, ctx);
    let freed = false;
    const release = () => {
      if (!freed) free();
      freed = true;
    };
    const timer = setTimeout(() => {
      ctx.abort(new Error("timed out"));
      live.delete(input.inputId);
      release();
      sink.outcome(input, {
        inputId: input.inputId,
        attempt: input.attempt,
        status: "TIMEOUT",
        message: `timed out after ${fn.options.timeoutMs} ms`,
      });
    }, fn.options.timeoutMs);
    const done = (result: Awaited<ReturnType<typeof execute>>) => {
      clearTimeout(timer);
      release();
      if (live.get(input.inputId) !== ctx) return;
      live.delete(input.inputId);
      sink.outcome(input, { ...result, inputId: input.inputId, attempt: input.attempt, taskId: "memory" });
    };
    const result = execute(raw, ctx, input.args, fn.isGenerator, (v) => {
      if (live.get(input.inputId) === ctx) sink.chunk(input, input.attempt, v);
    });
    if (result instanceof Promise) void result.then(done);
    else done(result);
  };

  return {
    name: "memory",
    submitted,
    aborted,
    submit(fn, inputs, sink) {
      const lane = laneOf(fn);
      for (const input of inputs) {
        submitted.push(input);
        live.set(input.inputId, undefined);
        lane.queue.push({ fn, input, sink });
      }
      setImmediate(() => pump(lane));
    },
    abort(_fn, ids) {
      for (const id of ids) {
        aborted.push(id);
        live.get(id)?.abort(new Error("aborted"));
        live.delete(id);
      }
    },
    async updateAutoscaler(fn, settings): Promise<EffectiveAutoscaler> {
      const lane = laneOf(fn);
      lane.maxContainers = settings.maxContainers;
      pump(lane);
      const { minContainers, bufferContainers, scaledownWindowMs } = settings;
      return {
        minContainers,
        maxContainers: settings.maxContainers ?? Number.POSITIVE_INFINITY,
        bufferContainers,
        scaledownWindowMs,
        unsupported: ["minContainers", "bufferContainers", "scaledownWindowMs"],
      };
    },
    async getCurrentStats(fn): Promise<FunctionStats> {
      const lane = lanes.get(fn);
      if (lane === undefined) return { backlog: 0, numTotalRunners: 0, numRunningInputs: 0 };
      const backlog = lane.queue.filter((q) => live.has(q.input.inputId)).length;
      return { backlog, numTotalRunners: Math.ceil(lane.running / fn.options.maxInputs), numRunningInputs: lane.running };
    },
    async close() {
      for (const ctx of live.values()) ctx?.abort(new Error("closed"));
      live.clear();
    },
  };
}
