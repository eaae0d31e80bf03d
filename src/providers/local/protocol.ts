/**
 * Messages between the local provider and its containers, over Node's IPC channel in JSON
 * mode, bytes as base64 text (`Wire`). Inputs and results travel in batches: one message
 * carries many, their bytes packed into one frame, which is what lets a process pool beat
 * one-message-per-call thread pools.
 *
 * Every message is an array whose first item names its kind: JSON of an array builds no object
 * and looks up no key, which a lone call's two messages pay on every side (docs/performance.md).
 *
 * Why not `serialization: "advanced"`, which carries bytes as they are: it makes a native
 * serializer object per message, and young-generation GCs spent milliseconds releasing them
 * (1.5–4 ms per scavenge against 0.16 ms in JSON mode, in a ping-pong of 20 000 messages);
 * that was ~6 µs of every lone call on each side (docs/performance.md).
 */

import type { GraphEvent } from "../../core/call-graph.js";
import { SPILL_BYTES, spill, unspill } from "./spill.js";

/**
 * Parent → container: inputs to run, in order. The parent numbers every input it sends to a
 * container (`seq0`, `seq0 + 1`, ...) and both sides name inputs by that number afterwards:
 * numbers cost less than id strings to send, parse and look up.
 */
export type RunMessage = [
  kind: "run",
  seq0: number,
  /** Input ids joined by "\n" (one string serializes faster than an array of them). */
  ids: string,
  /** Distinct call ids and parent input ids of the batch (most batches are one map's inputs). */
  calls: string[],
  parents: string[],
  /** A frame of META_FIELDS numbers per input (see `Meta`) and the inputs' argument bytes. */
  frame: Wire,
];
/** Offsets of an input's numbers in a `RunMessage` frame. */
export enum Meta {
  Call = 0,
  /** Index in `parents` plus one; 0: no parent. */
  Parent = 1,
  Attempt = 2,
  /** 1: announce the start at once (an input rescheduled after a lost container). */
  Announce = 3,
  Length = 4,
}
export const META_FIELDS = 5;

export type AbortMessage = [kind: "abort", seqs: number[]];
/** Parent → container: send back every input you hold and have not started; none of them may start after. */
export type GiveBackMessage = [kind: "give-back"];
export type ToContainer = RunMessage | AbortMessage | GiveBackMessage;

/** Result codes in an `OutMessage` frame. */
export enum Status {
  Success = 0,
  UserError = 1,
  FaasadeError = 2,
}

/** Container → parent: finished inputs, and what runs now. */
export type OutMessage = [
  kind: "out",
  /** Results in the frame. */
  n: number,
  /** A frame of OUT_FIELDS numbers per result (seq, `Status`, byte length) and the results' bytes. */
  frame: Wire,
  /** Inputs running at send time: [seq, ms each has run]. */
  running: [number, number][],
  /** True: the container will report before it starts any other input. */
  precise: boolean,
  /** Summed run time of the results in µs, a whole number (a JSON integer parses faster than a fraction). */
  busyUs: number,
];
export type ChunkMessage = [kind: "chunk", seq: number, data: Wire];
/** Call-graph records of calls made inside the container (and forwarded from its own containers). */
export type GraphMessage = [kind: "graph", events: GraphEvent[]];
export type ReadyMessage = [kind: "ready"];
export type InitFailedMessage = [kind: "init-failed", message: string, error: Wire];
/** Sent from the container's `exit` handler: the results it still held and what it was running. */
export type ExitMessage = [kind: "exit", n: number, frame: Wire, running: [number, number][], busyUs: number, code: number];
/** The answer to a `GiveBackMessage`: the inputs it dropped unstarted, for the parent to run elsewhere. */
export type GivenBackMessage = [kind: "given-back", seqs: number[]];
export type FromContainer =
  | OutMessage
  | ChunkMessage
  | GraphMessage
  | ReadyMessage
  | InitFailedMessage
  | ExitMessage
  | GivenBackMessage;

export const OUT_FIELDS = 3;

/** Bytes as the IPC channel carries them: base64 text, or above SPILL_BYTES the name of a file (spill.ts). */
export type Wire = string | { file: string };
export function toWire(bytes: Uint8Array): Wire {
  if (bytes.byteLength > SPILL_BYTES) return { file: spill(bytes) };
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString("base64");
}
export const fromWire = (wire: Wire): Uint8Array => (typeof wire === "string" ? Buffer.from(wire, "base64") : unspill(wire.file));

/**
 * One frame per message: numbers first, then bytes, as one `Wire` text. One field for all the
 * bytes of a batch: encoding and parsing cost per field, not per byte. The numbers are written
 * straight into the frame through a view (a separate typed array would be copied, and reading its
 * `.buffer` gives it a backing store of its own: a malloc, and an ArrayBuffer for GC to sweep).
 */
export class FrameWriter {
  readonly numbers: Uint32Array;
  private readonly frame: Buffer;
  private at: number;

  constructor(count: number, byteLength: number) {
    const size = count * 4 + byteLength;
    let frame = Buffer.allocUnsafe(size);
    // Buffer's pool hands out 8-aligned slices and larger buffers start at 0; a pool resized oddly gets a buffer of its own.
    if (frame.byteOffset % 4 !== 0) frame = Buffer.from(new ArrayBuffer(size));
    this.frame = frame;
    this.numbers = new Uint32Array(frame.buffer, frame.byteOffset, count);
    this.at = count * 4;
  }

  /** Appends `bytes` after what was put before. */
  put(bytes: Uint8Array): void {
    this.frame.set(bytes, this.at);
    this.at += bytes.byteLength;
  }

  wire(): Wire {
    return toWire(this.frame);
  }
}

/**
 * The numbers of a frame and a view of its bytes. The numbers are a view too where the frame
 * sits at an aligned offset (a decoded frame from Buffer's pool does), else a copy. The bytes'
 * view is a plain Uint8Array, not a Buffer: slicing one per input is cheaper.
 */
export function unpackFrame(wire: Wire, count: number): { numbers: Uint32Array; data: Uint8Array } {
  const frame = fromWire(wire);
  const bytes = count * 4;
  const numbers =
    frame.byteOffset % 4 === 0
      ? new Uint32Array(frame.buffer, frame.byteOffset, count)
      : new Uint32Array(frame.buffer.slice(frame.byteOffset, frame.byteOffset + bytes));
  return { numbers, data: new Uint8Array(frame.buffer, frame.byteOffset + bytes, frame.byteLength - bytes) };
}

/**
 * Collects repeated strings once: `values` distinct, `indexOf(v)` its position. A batch mostly
 * holds one call's inputs, so a few values are searched in place and a Map is made only past them.
 */
export class Interner {
  readonly values: string[] = [];
  private seen: Map<string, number> | undefined;
  indexOf(value: string): number {
    const values = this.values;
    if (this.seen === undefined) {
      for (let i = 0; i < values.length; i++) if (values[i] === value) return i;
      if (values.length < 8) return values.push(value) - 1;
      this.seen = new Map(values.map((v, i) => [v, i]));
    }
    let i = this.seen.get(value);
    if (i === undefined) {
      i = values.push(value) - 1;
      this.seen.set(value, i);
    }
    return i;
  }
}

/** A container reports at least this often (ms) while it runs inputs without announcing each. */
export const REPORT_WINDOW_MS = 10;

/** The argument a container's process is started with: only that process runs the runtime, not one its function forks. */
export const CONTAINER_ARG = "--faasade-container";

export const ENV = {
  taskId: "FAASADE_TASK_ID",
  module: "FAASADE_MODULE",
  app: "FAASADE_APP",
  environment: "FAASADE_ENVIRONMENT",
  fn: "FAASADE_FUNCTION",
} as const;
