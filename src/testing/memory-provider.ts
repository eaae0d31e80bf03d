/**
 * An in-memory provider: runs inputs in this process through the same executor as every
 * container. For unit tests of the core; it cannot stop sync code, so it never kills.
 */
import { InputContext } from "../core/context.js";
import { execute } from "../core/executor.js";
import type { FunctionSpec, Input, OutcomeSink, Provider } from "../core/provider.js";
import { findApp } from "../core/registry.js";

export interface MemoryProvider extends Provider {
  /** Every input ever submitted, in order (attempts included). */
  readonly submitted: Input[];
  /** Every input id aborted. */
  readonly aborted: string[];
}

export function memoryProvider(): MemoryProvider {
  const submitted: Input[] = [];
  const aborted: string[] = [];
  const live = new Map<string, InputContext>();
  const run = (fn: FunctionSpec, input: Input, sink: OutcomeSink) => {
    if (!live.has(input.inputId)) return; // aborted while queued
    const raw = findApp(fn.app, fn.environment)?.functionByName(fn.name)?.getRawF();
    if (raw === undefined) {
      sink.outcome({ inputId: input.inputId, attempt: input.attempt, status: "INIT_FAILURE", message: "not defined" });
      return;
    }
    const ctx = new InputContext(input.inputId, input.callId, input.attempt);
    live.set(input.inputId, ctx);
    const timer = setTimeout(() => {
      ctx.abort(new Error("timed out"));
      live.delete(input.inputId);
      sink.outcome({
        inputId: input.inputId,
        attempt: input.attempt,
        status: "TIMEOUT",
        message: `timed out after ${fn.options.timeoutMs} ms`,
      });
    }, fn.options.timeoutMs);
    const done = (result: Awaited<ReturnType<typeof execute>>) => {
      clearTimeout(timer);
      if (live.get(input.inputId) !== ctx) return;
      live.delete(input.inputId);
      sink.outcome({ ...result, inputId: input.inputId, attempt: input.attempt, taskId: "memory" });
    };
    const result = execute(raw, ctx, input.args, fn.isGenerator, (v) => {
      if (live.get(input.inputId) === ctx) sink.chunk(input.inputId, input.attempt, v);
    });
    if (result instanceof Promise) void result.then(done);
    else done(result);
  };
  return {
    name: "memory",
    submitted,
    aborted,
    submit(fn, inputs, sink) {
      for (const input of inputs) {
        submitted.push(input);
        live.set(input.inputId, undefined as unknown as InputContext);
        setImmediate(() => run(fn, input, sink));
      }
    },
    abort(_fn, ids) {
      for (const id of ids) {
        aborted.push(id);
        live.get(id)?.abort(new Error("aborted"));
        live.delete(id);
      }
    },
    async close() {
      for (const ctx of live.values()) ctx?.abort(new Error("closed"));
      live.clear();
    },
  };
}
