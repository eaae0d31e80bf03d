/**
 * `remote`, map inputs and `remoteGen` through a cloud's invoker: at most `maxInFlight` calls
 * at once from this process, arguments offloaded above the invoker's limit, and the answer
 * (a JSON outcome, or one JSON line per yielded value then the outcome) turned back into what
 * the core's sink expects. In-flight calls are counted per function, for `getCurrentStats`.
 */
import { applyGraphEvents } from "../core/call-graph.js";
import type { FunctionSpec, Input, Outcome, OutcomeSink } from "../core/provider.js";
import type { AppStore } from "./calls.js";
import { loadOutcome, offloadArgs } from "./offload.js";
import type { Invoker, PlatformFailure } from "./primitives.js";
import { type InvokeAnswer, type StreamLine, fromBase64, fromWire, toEnvelope, unreachable } from "./wire.js";

export interface InvokePath {
  submit(fn: FunctionSpec, app: AppStore, input: Input, sink: OutcomeSink): void;
  abort(inputIds: readonly string[]): void;
  /** Calls of `fn` in flight from this process. */
  inFlight(fn: FunctionSpec): number;
  close(): void;
}

const fnKey = (fn: FunctionSpec) => `${fn.environment}/${fn.app}/${fn.name}`;

export function invokePath(invoker: Invoker, maxInFlight: number): InvokePath {
  const controllers = new Map<string, AbortController>();
  const perFunction = new Map<string, number>();
  let running = 0;
  const waiting: (() => void)[] = [];
  // A finished call hands its slot to the next waiter directly: were it freed and taken again
  // after the waiter resumes, a call submitted meanwhile could take it first, and one over
  // `maxInFlight` would run (a map refilling its window as results arrive did: 65 of 64).
  const slot = async () => {
    if (running < maxInFlight) running++;
    else await new Promise<void>((r) => waiting.push(r));
  };
  const release = () => {
    const next = waiting.shift();
    if (next === undefined) running--;
    else next();
  };
  const count = (key: string, by: number) => {
    const n = (perFunction.get(key) ?? 0) + by;
    if (n === 0) perFunction.delete(key);
    else perFunction.set(key, n);
  };

  const run = async (fn: FunctionSpec, app: AppStore, input: Input, sink: OutcomeSink, signal: AbortSignal) => {
    const envelope = await offloadArgs(app.store, toEnvelope(fn, input, app.ref), invoker.callLimit);
    const body = JSON.stringify(envelope);
    if (!fn.isGenerator) {
      const answer = await invoker.call(fn, body, signal);
      if ("failure" in answer) return failed(input, answer.failure);
      const wire = JSON.parse(answer.text) as InvokeAnswer;
      if (wire.graph !== undefined) applyGraphEvents(wire.graph);
      return fromWire(await loadOutcome(app.store, wire));
    }
    let outcome: Outcome | undefined;
    const failure = await invoker.stream(fn, body, signal, (text) => {
      if (text === "") return;
      const line = JSON.parse(text) as StreamLine;
      if (line.c !== undefined) sink.chunk(input, input.attempt, fromBase64(line.c));
      if (line.o !== undefined) {
        if (line.o.graph !== undefined) applyGraphEvents(line.o.graph);
        outcome = fromWire(line.o);
      }
    });
    return outcome ?? failed(input, failure ?? { status: "FAILURE", message: "the stream ended without an outcome" });
  };

  return {
    submit(fn, app, input, sink) {
      const controller = new AbortController();
      const key = fnKey(fn);
      controllers.set(input.inputId, controller);
      void (async () => {
        await slot();
        count(key, 1);
        try {
          if (controller.signal.aborted) return;
          const outcome = await run(fn, app, input, sink, controller.signal);
          if (!controller.signal.aborted) sink.outcome(input, outcome);
        } catch (err) {
          if (!controller.signal.aborted) sink.outcome(input, unreachable(input, err));
        } finally {
          controllers.delete(input.inputId);
          count(key, -1);
          release();
        }
      })();
    },
    abort(inputIds) {
      // The call's connection closes: a streamed generator stops at its next value; a plain
      // call runs to its end remotely, but nobody waits for it.
      for (const id of inputIds) controllers.get(id)?.abort();
    },
    inFlight: (fn) => perFunction.get(fnKey(fn)) ?? 0,
    close() {
      for (const c of controllers.values()) c.abort();
    },
  };
}

function failed(input: Input, failure: PlatformFailure): Outcome {
  return { inputId: input.inputId, attempt: input.attempt, status: failure.status, message: failure.message };
}
