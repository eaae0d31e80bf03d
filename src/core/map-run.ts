/**
 * One map's scheduler: reads the input iterables lazily, keeps at most `WINDOW` inputs
 * outstanding (sent and not yet yielded, held-back results included), yields in input or
 * completion order, and cancels what is left when the loop is left early.
 *
 * A hand-written async iterator rather than an async generator: a generator's `yield` costs
 * several promises and microtask hops per value, a third of a fast map's caller time.
 */
import { Attempts, type Pending, newPending } from "./attempts.js";
import { recordCall } from "./call-graph.js";
import { encode } from "./codec.js";
import { failure } from "./executor.js";
import { newCallId, newInputId } from "./ids.js";
import type { MapSetup, Target } from "./map.js";
import { outcomeError, unwrap } from "./outcome.js";
import type { Outcome } from "./provider.js";

/** Outstanding inputs at most, and how far below it the window must fall before a refill. */
const WINDOW = 1000;
const REFILL = 125;
const EMPTY = new Uint8Array();
type Setup = MapSetup & { target: Target };

interface Waiter {
  resolve(result: IteratorResult<unknown, undefined>): void;
  reject(error: unknown): void;
}
type Step = IteratorResult<unknown, undefined> | { error: unknown } | undefined;

export class MapRun implements AsyncIterableIterator<unknown, undefined> {
  #setup: (() => Setup | Promise<Setup>) | undefined;
  #starting: Promise<void> | undefined;
  #run!: Setup;
  #attempts!: Attempts;
  #ordered = true;
  #returnExceptions = false;
  readonly #callId = newCallId();
  // Ordered results sit in a ring indexed by input position: at most WINDOW are outstanding.
  readonly #ring: (Outcome | undefined)[] = new Array(WINDOW);
  #arrived: Outcome[] = [];
  #arrivedAt = 0;
  #nextIndex = 0;
  #sent = 0;
  #yielded = 0;
  #firstFailure: Outcome | undefined;
  #sourceDone = false;
  #sourceError: { error: unknown } | undefined;
  #filling = false;
  /** Set once the map has ended or was left: a read still in flight must not send anything. */
  #stopped = false;
  #finished = false;
  #waiters: Waiter[] = [];
  #notifying = false;
  readonly #onAbort = () => this.#notify();

  constructor(setup: () => Setup | Promise<Setup>) {
    this.#setup = setup;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown, undefined>> {
    if (this.#setup !== undefined) {
      const setup = this.#setup;
      this.#setup = undefined;
      try {
        const ready = setup();
        if (ready instanceof Promise) this.#starting = ready.then((run) => this.#start(run));
        else this.#start(ready);
      } catch (error) {
        this.#finished = this.#stopped = true;
        return Promise.reject(error);
      }
    }
    if (this.#starting !== undefined) {
      // The function is being looked up (a deployment): every step waits for it.
      return this.#starting.then(
        () => {
          this.#starting = undefined;
          return this.next();
        },
        (error: unknown) => {
          this.#finished = this.#stopped = true;
          throw error;
        },
      );
    }
    if (this.#finished) return Promise.resolve({ done: true, value: undefined });
    if (this.#waiters.length === 0) {
      const step = this.#step();
      if (step !== undefined) return this.#settleStep(step);
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<unknown, undefined>> {
    await this.#finish();
    for (const w of this.#waiters.splice(0)) w.resolve({ done: true, value: undefined });
    return { done: true, value: undefined };
  }

  #start(run: Setup): void {
    if (this.#finished) return; // left while the function was being looked up
    this.#run = run;
    this.#ordered = run.options.orderOutputs !== false;
    this.#returnExceptions = run.options.returnExceptions === true;
    const { provider, spec, parentInputId } = run.target;
    // A map made inside an input belongs to that input's call graph.
    const graphed = parentInputId !== undefined;
    if (graphed) recordCall(this.#callId, parentInputId, spec);
    this.#attempts = new Attempts(provider, spec, { settle: (input, o) => this.#settle(input, o) }, graphed);
    run.options.signal?.addEventListener("abort", this.#onAbort);
    void this.#fill();
  }

  #settle(input: Pending, outcome: Outcome): void {
    if (outcome.status !== "SUCCESS" && !this.#returnExceptions && this.#firstFailure === undefined) this.#firstFailure = outcome;
    if (this.#ordered) this.#ring[input.index % WINDOW] = outcome;
    else this.#arrived.push(outcome);
    this.#notify();
  }

  /** The next thing to hand the consumer: a value, the end, an error, or undefined (nothing yet). */
  #step(): Step {
    const signal = this.#run.options.signal;
    if (signal?.aborted) return { error: signal.reason ?? new Error("map aborted") };
    if (this.#firstFailure !== undefined) return { error: outcomeError(this.#run.target.spec.name, this.#firstFailure) };
    if (this.#sourceError !== undefined) return this.#sourceError;
    let outcome: Outcome | undefined;
    if (this.#ordered) {
      const slot = this.#nextIndex % WINDOW;
      outcome = this.#nextIndex < this.#sent ? this.#ring[slot] : undefined;
      if (outcome !== undefined) {
        this.#ring[slot] = undefined;
        this.#nextIndex++;
      }
    } else if (this.#arrivedAt < this.#arrived.length) {
      outcome = this.#arrived[this.#arrivedAt++];
      if (this.#arrivedAt === this.#arrived.length) {
        this.#arrived = [];
        this.#arrivedAt = 0;
      }
    }
    if (outcome !== undefined) {
      this.#yielded++;
      try {
        return { done: false, value: this.#deliver(outcome) };
      } catch (error) {
        return { error };
      }
    }
    if (this.#sourceDone && !this.#filling && this.#yielded === this.#sent) return { done: true, value: undefined };
    return undefined;
  }

  #deliver(outcome: Outcome): unknown {
    const name = this.#run.target.spec.name;
    if (outcome.status === "SUCCESS" || !this.#returnExceptions) return unwrap(name, outcome);
    return outcomeError(name, outcome);
  }

  /** Hands a step to the consumer; an end or an error finishes the map first. */
  #settleStep(step: Exclude<Step, undefined>): Promise<IteratorResult<unknown, undefined>> {
    if ("error" in step) return this.#finish().then(() => Promise.reject(step.error));
    if (step.done) return this.#finish().then(() => step);
    // Refill as results are taken, not after a whole run of them: the containers keep working
    // while the caller consumes.
    if (this.#sent - this.#yielded <= WINDOW - REFILL) void this.#fill();
    return Promise.resolve(step);
  }

  /** Something changed (a result, the source's end, an abort): a waiting consumer may go on. */
  #notify(): void {
    if (this.#waiters.length === 0 || this.#finished || this.#notifying) return;
    // Later, not from inside the provider's delivery loop: handing a value over may refill,
    // which submits to the provider again.
    this.#notifying = true;
    queueMicrotask(() => {
      this.#notifying = false;
      while (this.#waiters.length > 0 && !this.#finished) {
        const step = this.#step();
        if (step === undefined) return;
        const waiter = this.#waiters.shift() as Waiter;
        this.#settleStep(step).then(waiter.resolve, waiter.reject);
      }
    });
  }

  async #fill(): Promise<void> {
    if (this.#filling || this.#sourceDone || this.#stopped) return;
    this.#filling = true;
    const { source, isSync, options, target } = this.#run;
    const { kwargs, signal } = options;
    const { parentInputId } = target;
    const callId = this.#callId;
    try {
      while (!this.#sourceDone && !this.#stopped && this.#sent - this.#yielded < WINDOW && !signal?.aborted) {
        if (this.#firstFailure !== undefined) break;
        const batch: Pending[] = [];
        while (this.#sent - this.#yielded < WINDOW) {
          const step = isSync ? (source as Iterator<unknown[]>).next() : await (source as AsyncIterator<unknown[]>).next();
          if (step.done) {
            this.#sourceDone = true;
            break;
          }
          if (this.#stopped) return;
          const args = kwargs === undefined ? step.value : [...step.value, kwargs];
          const index = this.#sent++;
          const inputId = newInputId();
          let bytes: Uint8Array;
          try {
            bytes = encode(args, "args");
          } catch (err) {
            this.#settle(newPending(inputId, callId, EMPTY, index, parentInputId), {
              inputId,
              attempt: 1,
              ...failure(err, false),
            } as Outcome);
            continue;
          }
          batch.push(newPending(inputId, callId, bytes, index, parentInputId));
          if (!isSync) break; // an async source submits as it reads; the provider batches the wire
        }
        if (batch.length > 0) this.#attempts.submit(batch);
      }
    } catch (error) {
      this.#sourceError = { error };
      this.#sourceDone = true;
    } finally {
      this.#filling = false;
      this.#notify();
    }
  }

  /** Ends the map: stops reading, cancels every input still live, closes the source if unfinished. */
  async #finish(): Promise<void> {
    if (this.#finished) return;
    this.#finished = this.#stopped = true;
    if (this.#run === undefined) return; // never started: nothing to release
    this.#run.options.signal?.removeEventListener("abort", this.#onAbort);
    this.#attempts.abortAll();
    if (!this.#sourceDone) {
      try {
        await this.#run.source.return?.();
      } catch {
        // The caller is leaving already; a failing `return()` of their iterator changes nothing.
      }
    }
  }
}
