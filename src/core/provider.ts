/**
 * The provider interface: the few primitives a platform translates. Every semantic
 * (retries, timeouts' meaning, map windows, ordering, gather) lives in the core;
 * docs/providers.md explains each member for provider authors.
 */
import type { ResolvedOptions } from "./options.js";

/** Frozen object whose values are the names: `InputStatus.SUCCESS === "SUCCESS"`. */
export const InputStatus = Object.freeze({
  PENDING: "PENDING",
  SUCCESS: "SUCCESS",
  FAILURE: "FAILURE",
  TERMINATED: "TERMINATED",
  TIMEOUT: "TIMEOUT",
  INIT_FAILURE: "INIT_FAILURE",
} as const);
export type InputStatus = (typeof InputStatus)[keyof typeof InputStatus];

/** What a provider needs to know about a function to run it. */
export interface FunctionSpec {
  readonly app: string;
  readonly environment: string;
  readonly name: string;
  /** URL of the module that defines the function; containers import it. */
  readonly module: string;
  readonly isGenerator: boolean;
  readonly options: ResolvedOptions;
}

/** One attempt of one input, as sent to a provider. `args` are codec bytes of the argument array. */
export interface Input {
  readonly inputId: string;
  readonly callId: string;
  readonly attempt: number;
  readonly args: Uint8Array;
  readonly parentInputId?: string | undefined;
}

/** The end of one attempt. Errors travel as codec bytes and are rebuilt by the core. */
export interface Outcome {
  readonly inputId: string;
  readonly attempt: number;
  readonly status: Exclude<InputStatus, "PENDING">;
  /** SUCCESS: codec bytes of the result. */
  readonly value?: Uint8Array | undefined;
  /** FAILURE: codec bytes of what the user's code threw (or, with `userError: false`, of a faasade error). */
  readonly error?: Uint8Array | undefined;
  /** False when `error` is faasade's own (a result that could not be encoded, say). @default true */
  readonly userError?: boolean | undefined;
  /** What happened, for failures without `error`: a crash, a timeout, an init failure. */
  readonly message?: string | undefined;
  /** The container that ran the attempt. */
  readonly taskId?: string | undefined;
}

/** Where a provider reports what happens to the inputs of one `submit`. */
export interface OutcomeSink {
  outcome(outcome: Outcome): void;
  /** A value yielded by a generator input, in order. */
  chunk(inputId: string, attempt: number, value: Uint8Array): void;
}

export interface Provider {
  readonly name: string;
  /**
   * Queues inputs of one function. Every input gets exactly one outcome per attempt, through
   * `sink`, unless it is aborted. Inputs the provider could not start (a container died before
   * they began) are rescheduled by the provider without a new attempt.
   */
  submit(fn: FunctionSpec, inputs: readonly Input[], sink: OutcomeSink): void;
  /** Drops queued inputs and aborts running ones; no outcome follows for them. */
  abort(fn: FunctionSpec, inputIds: readonly string[]): void;
  /** Stops containers and releases resources. */
  close(): Promise<void>;
}
