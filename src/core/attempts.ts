/**
 * Drives inputs through their attempts on the caller's side: submit, take outcomes, apply
 * the retry policy, drop stale outcomes. One `Attempts` serves one call (a `remote`, a
 * `spawn`, a whole `map`), so the map's hot path shares one sink and one lookup table.
 */
import { recordInput } from "./call-graph.js";
import type { AbortOptions, FunctionSpec, Input, Outcome, OutcomeSink, Provider } from "./provider.js";
import type { Retries } from "./retries.js";

export interface Pending extends Input {
  attempt: number;
  /** Position in a map, 0 elsewhere. */
  readonly index: number;
}

export interface AttemptHandlers<P extends Pending> {
  /** The final outcome of an input: success, a failure with no retry left, or cancellation. */
  settle(input: P, outcome: Outcome): void;
  chunk?(input: P, value: Uint8Array): void;
}

export interface AbortAllOptions extends AbortOptions {
  /** Settle every aborted input as TERMINATED (a cancelled call); a map being left needs no outcomes. */
  settle?: boolean;
}

export class Attempts<P extends Pending = Pending> implements OutcomeSink {
  private readonly live = new Map<string, P>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly retries: Retries;

  constructor(
    private readonly provider: Provider,
    private readonly fn: FunctionSpec,
    private readonly handlers: AttemptHandlers<P>,
    /** Whether this call's inputs are recorded in the call graph (spawns, and calls made inside an input). */
    private readonly graphed = false,
  ) {
    this.retries = fn.options.retries;
  }

  get size(): number {
    return this.live.size;
  }

  submit(inputs: P[]): void {
    for (const input of inputs) this.live.set(input.inputId, input);
    if (this.graphed) for (const input of inputs) recordInput(input.callId, input.inputId, "PENDING");
    this.provider.submit(this.fn, inputs, this);
  }

  outcome(outcome: Outcome): void {
    const input = this.live.get(outcome.inputId);
    if (input === undefined || input.attempt !== outcome.attempt) return; // stale or aborted
    if (outcome.status !== "SUCCESS" && outcome.status !== "TERMINATED") {
      const delay = this.retries.delayBeforeRetry(input.attempt);
      if (delay !== undefined) {
        input.attempt++;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (this.live.get(input.inputId) === input) this.provider.submit(this.fn, [input], this);
        }, delay);
        this.timers.add(timer);
        return;
      }
    }
    this.live.delete(outcome.inputId);
    if (this.graphed) recordInput(input.callId, input.inputId, outcome.status, outcome.taskId);
    this.handlers.settle(input, outcome);
  }

  chunk(inputId: string, attempt: number, value: Uint8Array): void {
    const input = this.live.get(inputId);
    if (input !== undefined && input.attempt === attempt) this.handlers.chunk?.(input, value);
  }

  /**
   * Stops every input still live: queued ones never run, running ones see their signal abort
   * (or lose their container, with `terminateContainers`). Aborted inputs are never retried.
   */
  abortAll(options: AbortAllOptions = {}): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.live.size === 0) return;
    const inputs = [...this.live.values()];
    this.live.clear();
    const { settle, ...abortOptions } = options;
    this.provider.abort(
      this.fn,
      inputs.map((i) => i.inputId),
      abortOptions,
    );
    for (const input of inputs) {
      if (this.graphed) recordInput(input.callId, input.inputId, "TERMINATED");
      if (settle) {
        const { inputId, attempt } = input;
        this.handlers.settle(input, { inputId, attempt, status: "TERMINATED" });
      }
    }
  }
}
