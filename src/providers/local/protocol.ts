/**
 * Messages between the local provider and its containers, over Node's IPC channel with
 * `serialization: "advanced"`. Inputs and results travel in batches: one message carries
 * many, their bytes packed into one buffer, which is what lets a process pool beat
 * one-message-per-call thread pools.
 */

/** Parent → container: inputs to run, in order. */
export interface RunMessage {
  t: "run";
  ids: string[];
  /** Distinct call ids of the batch (most batches are one map's inputs: one call) and each input's index into it. */
  calls: string[];
  callOf: number[];
  /** Distinct parent input ids, and each input's index into them (-1: none). */
  parents: string[];
  parentOf: number[];
  attempts: number[];
  /** 1 where the container must announce the start at once (an input rescheduled after a lost container). */
  announce: number[];
  lens: number[];
  data: Uint8Array;
}
export interface AbortMessage {
  t: "abort";
  ids: string[];
}
export type ToContainer = RunMessage | AbortMessage;

/** Result codes in `OutMessage.st`. */
export enum Status {
  Success = 0,
  UserError = 1,
  FaasadeError = 2,
}

/** Container → parent: finished inputs, and what runs now. */
export interface OutMessage {
  t: "out";
  ids: string[];
  st: Status[];
  lens: number[];
  data: Uint8Array;
  /** Inputs running at send time, with their start (ms since epoch). */
  running: [string, number][];
  /** True: the container will report before it starts any other input. */
  precise: boolean;
  /** Summed run time of `ids`, for the parent's estimate of a run's length. */
  busyMs: number;
}
export interface ChunkMessage {
  t: "chunk";
  id: string;
  data: Uint8Array;
}
export interface ReadyMessage {
  t: "ready";
}
export interface InitFailedMessage {
  t: "init-failed";
  message: string;
  error: Uint8Array;
}
/** Sent from the container's `exit` handler: the results it still held and what it was running. */
export interface ExitMessage extends Omit<OutMessage, "t" | "precise"> {
  t: "exit";
  code: number;
}
export type FromContainer = OutMessage | ChunkMessage | ReadyMessage | InitFailedMessage | ExitMessage;

/** Collects repeated strings once: `values` distinct, `indexOf(v)` its position. */
export class Interner {
  readonly values: string[] = [];
  private readonly seen = new Map<string, number>();
  indexOf(value: string): number {
    let i = this.seen.get(value);
    if (i === undefined) {
      i = this.values.push(value) - 1;
      this.seen.set(value, i);
    }
    return i;
  }
}

/** A container reports at least this often (ms) while it runs inputs without announcing each. */
export const REPORT_WINDOW_MS = 10;

export const ENV = {
  taskId: "FAASADE_TASK_ID",
  module: "FAASADE_MODULE",
  app: "FAASADE_APP",
  environment: "FAASADE_ENVIRONMENT",
  fn: "FAASADE_FUNCTION",
} as const;
