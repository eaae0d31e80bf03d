/**
 * The inside of a local container: an OS process that imports the module defining the
 * function, then runs the inputs its parent sends, in batches. It reports results at least
 * every REPORT_WINDOW_MS and before starting an input whose start the parent must know.
 */
import { createRequire } from "node:module";
import { flushGraphEvents, forwardGraphEvents } from "../../core/call-graph.js";
import { encode, primeScalarPaths } from "../../core/codec.js";
import { InputContext } from "../../core/context.js";
import { InputCancelledError } from "../../core/errors.js";
import { importAppModule } from "../../core/importing.js";
import { execute, type Result } from "../../core/executor.js";
import { findApp, registeredByAnotherCopy } from "../../core/registry.js";
import { webAdapter } from "../../core/web.js";
import {
  CONTAINER_ARG,
  ENV,
  type FromContainer,
  Meta,
  META_FIELDS,
  OUT_FIELDS,
  FrameWriter,
  REPORT_WINDOW_MS,
  type RunMessage,
  Status,
  type ToContainer,
  toWire,
  unpackFrame,
  type Wire,
} from "./protocol.js";

interface Job {
  /** The number the parent knows this input by; -1 once aborted while queued. */
  seq: number;
  id: string;
  call: string;
  attempt: number;
  args: Uint8Array;
  announce: boolean;
  ctx?: InputContext;
  /** When it started, in `performance.now()` time. */
  t0: number;
}

const send = (message: FromContainer) => process.send?.(message);
const env = (key: string) => process.env[key] ?? "";

/** Inputs that take at least this long (ms, on average) have each start announced. */
const PRECISE_MS = 5;
const queue: Job[] = [];
let head = 0;
/** Inputs that returned a promise and have not settled. */
const running = new Map<number, Job>();
/** The input running synchronously now: it joins `running` only if it returns a promise. */
let current: Job | undefined;
// Results not yet reported.
let outSeqs: number[] = [];
let outSt: Status[] = [];
let outData: Uint8Array[] = [];
let busyMs = 0;
let lastSend = performance.now();
let ewmaMs = 1;
let sticky = false;
let pumping = false;
let maxInputs = 1;
let fn: (...args: unknown[]) => unknown = () => undefined;
let isGenerator = false;

async function main(): Promise<void> {
  process.on("disconnect", () => process.exit(0));
  try {
    await importAppModule(env(ENV.module), () => import(env(ENV.module)));
    const handle = findApp(env(ENV.app), env(ENV.environment))?.functionByName(env(ENV.fn));
    if (handle === undefined) {
      if (registeredByAnotherCopy(env(ENV.app), env(ENV.environment))) {
        throw new Error(
          `module ${env(ENV.module)} imports faasade by a file path, so its app ${env(ENV.app)} is on a copy of faasade the container's runtime does not share: import it as "faasade" (and "faasade/local")`,
        );
      }
      throw new Error(`module ${env(ENV.module)} does not define function ${env(ENV.fn)} of app ${env(ENV.app)}`);
    }
    fn = handle.definition().spec.options.web ? (webAdapter(handle.getRawF()) as typeof fn) : handle.getRawF();
    isGenerator = handle.isGenerator;
    maxInputs = Number(process.env.FAASADE_MAX_INPUTS ?? "1") || 1;
  } catch (err) {
    send(["init-failed", String((err as Error)?.message ?? err), toWire(encodeSafe(err))]);
    process.disconnect?.();
    return;
  }
  process.on("message", (m: ToContainer) => {
    if (m[0] === "run") enqueue(m);
    else if (m[0] === "abort") abort(m[1]);
    else giveBack();
  });
  forwardGraphEvents((events) => send(["graph", events]));
  process.on("exit", (code) => {
    flushGraphEvents();
    const [n, frame, busyUs] = takeResults();
    send(["exit", n, frame, runningList(), busyUs, code]);
  });
  send(["ready"]);
}

let stickyCheck: NodeJS.Timeout | undefined;

/**
 * An async input that runs REPORT_WINDOW_MS without a report makes the container sticky: it
 * reports what runs, so the parent knows exactly, and announces every start until its queue
 * drains. One report is enough: after it every start is announced, so nothing periodic runs while
 * inputs are known (it was a report every ~10 ms through a long input) or while the container idles.
 */
function checkStickyLater(): void {
  if (stickyCheck !== undefined || sticky || running.size === 0) return;
  stickyCheck = setTimeout(
    () => {
      stickyCheck = undefined;
      if (sticky || running.size === 0) return;
      if (performance.now() - lastSend >= REPORT_WINDOW_MS) {
        sticky = true;
        report();
      } else checkStickyLater();
    },
    Math.max(1, REPORT_WINDOW_MS - (performance.now() - lastSend)),
  );
  stickyCheck.unref();
}

function enqueue([, seq0, joinedIds, calls, , frame]: RunMessage): void {
  const ids = joinedIds.includes("\n") ? joinedIds.split("\n") : [joinedIds];
  const { numbers: meta, data } = unpackFrame(frame, ids.length * META_FIELDS);
  let offset = 0;
  for (let i = 0, at = 0; i < ids.length; i++, at += META_FIELDS) {
    const len = meta[at + Meta.Length] as number;
    queue.push({
      seq: seq0 + i,
      id: ids[i] as string,
      call: calls[meta[at + Meta.Call] as number] as string,
      attempt: meta[at + Meta.Attempt] as number,
      args: data.subarray(offset, offset + len),
      announce: meta[at + Meta.Announce] === 1,
      t0: 0,
    });
    offset += len;
  }
  pump();
}

function pump(): void {
  if (pumping) return;
  pumping = true;
  // One clock reading per input: the end of one is the start of the next.
  let now = performance.now();
  const sliceEnd = now + 15;
  while (head < queue.length && running.size < maxInputs) {
    const job = queue[head++] as Job;
    const precise = isPrecise() || job.announce;
    job.t0 = now;
    current = job;
    if (precise || now - lastSend >= REPORT_WINDOW_MS) report(precise);
    job.ctx = new InputContext(job.id, job.call, job.attempt);
    const result = execute(fn, job.ctx, job.args, isGenerator, (data) => send(["chunk", job.seq, toWire(data)]));
    current = undefined;
    const end = performance.now();
    if (result instanceof Promise) {
      running.set(job.seq, job);
      checkStickyLater();
      result.then((r) => finish(job, r));
    } else {
      record(job, result, end - now);
    }
    now = end;
    // Node hands over one IPC message per tick: yield so that refills arrive while we work.
    if (now > sliceEnd) {
      pumping = false;
      setImmediate(pump);
      return;
    }
  }
  if (head === queue.length) {
    queue.length = 0;
    head = 0;
  }
  pumping = false;
  if (head === queue.length && outSeqs.length > 0) {
    sticky = false;
    report(false);
    checkStickyLater();
  }
}

/** An input that returned a promise settled. */
function finish(job: Job, result: Result): void {
  if (running.get(job.seq) !== job) return; // aborted meanwhile
  running.delete(job.seq);
  record(job, result, performance.now() - job.t0);
  if (!pumping) pump();
}

function record(job: Job, result: Result, took: number): void {
  busyMs += took;
  ewmaMs = ewmaMs * 0.9 + took * 0.1;
  outSeqs.push(job.seq);
  if (result.status === "SUCCESS") {
    outSt.push(Status.Success);
    outData.push(result.value as Uint8Array);
  } else {
    outSt.push(result.userError === false ? Status.FaasadeError : Status.UserError);
    outData.push(result.error as Uint8Array);
  }
}

function abort(seqs: number[]): void {
  const drop = new Set(seqs);
  for (let i = head; i < queue.length; i++) {
    const job = queue[i] as Job;
    if (drop.has(job.seq)) job.seq = -1;
  }
  for (const seq of seqs) {
    running.get(seq)?.ctx?.abort(new InputCancelledError("the input was cancelled or timed out"));
  }
  const kept = queue.slice(head).filter((j) => j.seq !== -1);
  queue.length = 0;
  head = 0;
  queue.push(...kept);
}

/** Drops every input not started yet and tells the parent which: it runs them elsewhere. */
function giveBack(): void {
  const seqs: number[] = [];
  for (let i = head; i < queue.length; i++) {
    const seq = (queue[i] as Job).seq;
    if (seq !== -1) seqs.push(seq);
  }
  queue.length = 0;
  head = 0;
  send(["given-back", seqs]);
}

/** The results not yet reported, as [count, frame, summed run time in µs]; none are held after. */
function takeResults(): [n: number, frame: Wire, busyUs: number] {
  const n = outSeqs.length;
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += (outData[i] as Uint8Array).byteLength;
  const frame = new FrameWriter(n * OUT_FIELDS, bytes);
  const numbers = frame.numbers;
  for (let i = 0, at = 0; i < n; i++, at += OUT_FIELDS) {
    const data = outData[i] as Uint8Array;
    numbers[at] = outSeqs[i] as number;
    numbers[at + 1] = outSt[i] as number;
    numbers[at + 2] = data.byteLength;
    frame.put(data);
  }
  const taken: [number, Wire, number] = [n, frame.wire(), Math.round(busyMs * 1000)];
  outSeqs = [];
  outSt = [];
  outData = [];
  busyMs = 0;
  return taken;
}

/** Shared, never changed: most reports are sent with nothing running. */
const NONE_RUNNING: [number, number][] = [];

/** [seq, ms it has run] of every input running now: durations, so that no wall clock is compared across processes. */
function runningList(): [number, number][] {
  if (current === undefined && running.size === 0) return NONE_RUNNING;
  const jobs = current === undefined ? [...running.values()] : [...running.values(), current];
  const now = performance.now();
  return jobs.map((job) => [job.seq, Math.max(0, Math.round(now - job.t0))]);
}

/**
 * Announce every start when inputs are long enough that one message each costs little
 * (≥ PRECISE_MS), when several run at once, or while a long async input is known to run.
 */
function isPrecise(): boolean {
  return sticky || maxInputs > 1 || ewmaMs >= PRECISE_MS;
}

function report(precise = isPrecise()): void {
  lastSend = performance.now();
  flushGraphEvents(); // before the results: a parent's call graph is complete when its result arrives
  const [n, frame, busyUs] = takeResults();
  send(["out", n, frame, runningList(), precise, busyUs]);
  primeAfterFirstResults();
}

let primeQueued = false;

/** The codec's priming (codec.ts) and a sooner tier-up, once the first results are out, where they delay none of them. */
function primeAfterFirstResults(): void {
  if (primeQueued) return;
  primeQueued = true;
  setImmediate(() => {
    primeScalarPaths();
    tierUpSooner();
  });
}

/**
 * A container runs the same few functions for every input, and at V8's default budget (67 584) a
 * small function is optimized only after ~4 000–10 000 calls: a container ran its first ~8 000
 * inputs mostly unoptimized. A quarter of that budget gets there in ~2 000 (docs/performance.md).
 * Set at run time: as a flag of the process it cost ~18 ms of every first call. A budget the user
 * gave in `execArgv` is kept.
 */
function tierUpSooner(): void {
  if (process.execArgv.some((flag) => flag.startsWith("--interrupt-budget"))) return;
  (createRequire(import.meta.url)("node:v8") as typeof import("node:v8")).setFlagsFromString(
    `--interrupt-budget=${INTERRUPT_BUDGET}`,
  );
}
const INTERRUPT_BUDGET = 16_000;

function encodeSafe(err: unknown): Uint8Array {
  try {
    return encode(err, "error");
  } catch {
    return encode(new Error(String(err)), "error");
  }
}

// In the bundled runtime (runtime-entry.ts) this module is also what `import "faasade"` reaches, so a
// process the function forks with the same flags imports it too: only the container itself starts.
if (process.argv.includes(CONTAINER_ARG)) void main();
