/**
 * Ends an instance whose event loop is stuck in an input past its timeout. Lambda stops a
 * function at its timeout, but Cloud Run lets a request run on after its timeout, and its
 * instance with it: busy sync code would keep the slot, and its caller would wait, forever.
 * The attempt's own timer (run-input.ts) cannot fire while the loop is blocked, so a thread
 * beside it watches: when the earliest deadline of the inputs running here is `graceMs` past and
 * the loop has not beaten since, it kills the process, as the platform would. The caller's
 * connection is then cut after the timeout (the invoker reports a timeout), and a queued
 * delivery comes back to the attempt lease (attempt-lease.ts), which settles it.
 */
import { Worker } from "node:worker_threads";

/** Past an input's deadline before its instance is ended: the timer's own lateness, and then some. */
export const WATCHDOG_GRACE_MS = 1000;
const BEAT_MS = 100;

/** Shared with the thread: [0] the loop's last beat, [1] the earliest deadline running (0: none), in ms. */
let shared: Float64Array | undefined;
const deadlines = new Map<number, number>();
let next = 0;

// The thread's whole code: checks four times a second, kills the process when stuck.
const THREAD = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const view = new Float64Array(workerData.buffer);
const sleep = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  Atomics.wait(sleep, 0, 0, 250);
  const now = Date.now();
  const deadline = view[1];
  if (deadline > 0 && now > deadline + workerData.graceMs && now - view[0] > workerData.graceMs) {
    writeSync(2, "faasade: an input ran past its timeout with the event loop blocked: ending this instance\\n");
    process.kill(process.pid, "SIGKILL");
  }
}`;

/** Starts the watching thread for this process (once). */
export function watchBlockedInputs(graceMs = WATCHDOG_GRACE_MS): void {
  if (shared !== undefined) return;
  shared = new Float64Array(new SharedArrayBuffer(16));
  shared[0] = Date.now();
  const view = shared;
  setInterval(() => {
    view[0] = Date.now();
  }, BEAT_MS).unref();
  // Its own flags: inherited ones (--input-type=module, --import ...) would change how its CommonJS code is read.
  new Worker(THREAD, { eval: true, execArgv: [], workerData: { buffer: view.buffer, graceMs } }).unref();
}

/** Marks an input running until `deadlineAt` (ms since the epoch); the returned function marks it over. */
export function runningUntil(deadlineAt: number): () => void {
  if (shared === undefined) return () => {};
  const id = next++;
  deadlines.set(id, deadlineAt);
  publish();
  return () => {
    deadlines.delete(id);
    publish();
  };
}

function publish(): void {
  if (shared !== undefined) shared[1] = deadlines.size === 0 ? 0 : Math.min(...deadlines.values());
}
