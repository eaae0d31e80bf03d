/**
 * Drives inputs through their attempts on the caller's side: submit, take outcomes, apply
 * the retry policy, drop stale outcomes. One `Attempts` serves one call (a `remote`, a
 * `spawn`, a whole `map`), so the map's hot path shares one sink and one lookup table.
 */
import { recordInput } from "./call-graph.js";
import type { AbortOptions, FunctionSpec, Input, Outcome, OutcomeSink, Provider } from "./provider.js";
import { type Retries, retryDelay } from "./retries.js";

export interface Pending extends Input {
  attempt: number;
  /** Position in a map, 0 elsewhere. */
  readonly index: number;
  /** Bookkeeping of `Attempts`: live, and the neighbours in its list of live inputs. */
  live: boolean;
  prev: Pending | undefined;
  next: Pending | undefined;
}

/** A new input, first attempt. One shape for every input, so the hot paths stay monomorphic. */
export function newPending(
  inputId: string,
  callId: string,
  args: Uint8Array,
  index: number,
  parentInputId: string | undefined,
): Pending {
  return { inputId, callId, attempt: 1, args, index, parentInputId, live: false, prev: undefined, next: undefined };
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
  /**
   * Live inputs: a list threaded through the inputs themselves. A map keeps ~1 000 inputs live
   * and replaces them at 500k+/s; a `Map` by id rehashed all the time and its tables outlived
   * young-generation GCs.
   */
  private head: Pending | undefined;
  private count = 0;
  /** Retries waiting for their delay; made at the first one (most calls never retry). */
  private timers: Set<NodeJS.Timeout> | undefined;
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
    return this.count;
  }

  submit(inputs: P[]): void {
    for (const input of inputs) this.link(input);
    if (this.graphed) for (const input of inputs) recordInput(input.callId, input.inputId, "PENDING");
    this.provider.submit(this.fn, inputs, this);
  }

  outcome(submitted: Input, outcome: Outcome): void {
    const input = submitted as P;
    if (!input.live || input.attempt !== outcome.attempt) return; // stale or aborted
    const delay = retryDelay(this.retries, outcome);
    if (delay !== undefined) {
      input.attempt++;
      const timers = (this.timers ??= new Set());
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (input.live) this.provider.submit(this.fn, [input], this);
      }, delay);
      timers.add(timer);
      return;
    }
    this.unlink(input);
    if (this.graphed) recordInput(input.callId, input.inputId, outcome.status, outcome.taskId);
    this.handlers.settle(input, outcome);
  }

  chunk(submitted: Input, attempt: number, value: Uint8Array): void {
    const input = submitted as P;
    if (input.live && input.attempt === attempt) this.handlers.chunk?.(input, value);
  }

  private link(input: Pending): void {
    input.live = true;
    input.prev = undefined;
    input.next = this.head;
    if (this.head !== undefined) this.head.prev = input;
    this.head = input;
    this.count++;
  }

  private unlink(input: Pending): void {
    input.live = false;
    if (input.prev === undefined) this.head = input.next;
    else input.prev.next = input.next;
    if (input.next !== undefined) input.next.prev = input.prev;
    input.prev = undefined;
    input.next = undefined;
    this.count--;
  }

  /**
   * Stops every input still live: queued ones never run, running ones see their signal abort
   * (or lose their container, with `terminateContainers`). Aborted inputs are never retried.
   */
  abortAll(options: AbortAllOptions = {}): void {
    if (this.timers !== undefined) {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
    }
    if (this.count === 0) return;
    const inputs: P[] = [];
    for (let p = this.head; p !== undefined; p = p.next) inputs.push(p as P);
    for (const input of inputs) this.unlink(input);
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
