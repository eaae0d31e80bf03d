/**
 * The inside of a local container: an OS process that imports the module defining the
 * function, then runs the inputs its parent sends, in batches. It reports results at least
 * every REPORT_WINDOW_MS and before starting an input whose start the parent must know.
 */
import { encode } from "../../core/codec.js";
import { InputContext } from "../../core/context.js";
import { InputCancelledError } from "../../core/errors.js";
import { execute, type Result } from "../../core/executor.js";
import { findApp } from "../../core/registry.js";
import { ENV, type FromContainer, REPORT_WINDOW_MS, type RunMessage, Status, type ToContainer } from "./protocol.js";

interface Job {
  id: string;
  call: string;
  attempt: number;
  args: Uint8Array;
  announce: boolean;
  ctx?: InputContext;
}

const send = (message: FromContainer) => process.send?.(message);
const env = (key: string) => process.env[key] ?? "";

/** Inputs that take at least this long (ms, on average) have each start announced. */
const PRECISE_MS = 5;
const queue: Job[] = [];
let head = 0;
const running = new Map<string, { job: Job; at: number; t0: number }>();
// Results not yet reported.
let outIds: string[] = [];
let outSt: Status[] = [];
let outData: Uint8Array[] = [];
let busyMs = 0;
let lastSend = Date.now();
let ewmaMs = 1;
let sticky = false;
let pumping = false;
let maxInputs = 1;
let fn: (...args: unknown[]) => unknown = () => undefined;
let isGenerator = false;

async function main(): Promise<void> {
  process.on("disconnect", () => process.exit(0));
  try {
    await import(env(ENV.module));
    const handle = findApp(env(ENV.app), env(ENV.environment))?.functionByName(env(ENV.fn));
    if (handle === undefined) {
      throw new Error(`module ${env(ENV.module)} does not define function ${env(ENV.fn)} of app ${env(ENV.app)}`);
    }
    fn = handle.getRawF();
    isGenerator = handle.isGenerator;
    maxInputs = Number(process.env.FAASADE_MAX_INPUTS ?? "1") || 1;
  } catch (err) {
    send({ t: "init-failed", message: String((err as Error)?.message ?? err), error: encodeSafe(err) });
    process.disconnect?.();
    return;
  }
  process.on("message", (m: ToContainer) => (m.t === "run" ? enqueue(m) : abort(m.ids)));
  process.on("exit", (code) => {
    send({ t: "exit", code, ...takeResults(), running: runningList() });
  });
  // Reports inputs that run long while the event loop is free (async code): the parent then
  // knows exactly what runs, and the container announces every start until its queue drains.
  setInterval(() => {
    if (running.size > 0 && Date.now() - lastSend >= REPORT_WINDOW_MS) {
      sticky = true;
      report();
    }
  }, REPORT_WINDOW_MS).unref();
  send({ t: "ready" });
}

function enqueue(m: RunMessage): void {
  let offset = 0;
  for (let i = 0; i < m.ids.length; i++) {
    const len = m.lens[i] as number;
    queue.push({
      id: m.ids[i] as string,
      call: m.calls[m.callOf[i] as number] as string,
      attempt: m.attempts[i] as number,
      args: m.data.subarray(offset, offset + len),
      announce: m.announce[i] === 1,
    });
    offset += len;
  }
  pump();
}

function pump(): void {
  if (pumping) return;
  pumping = true;
  const sliceEnd = performance.now() + 15;
  while (head < queue.length && running.size < maxInputs) {
    const job = queue[head++] as Job;
    const precise = isPrecise() || job.announce;
    const at = Date.now();
    const t0 = performance.now();
    running.set(job.id, { job, at, t0 });
    if (precise || at - lastSend >= REPORT_WINDOW_MS) report(precise);
    job.ctx = new InputContext(job.id, job.call, job.attempt);
    const result = execute(fn, job.ctx, job.args, isGenerator, (data) => send({ t: "chunk", id: job.id, data }));
    if (result instanceof Promise) {
      result.then((r) => finish(job, r));
    } else {
      finish(job, result);
    }
    // Node hands over one IPC message per tick: yield so that refills arrive while we work.
    if (performance.now() > sliceEnd) {
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
  if (head === queue.length && outIds.length > 0) {
    sticky = false;
    report(false);
  }
}

function finish(job: Job, result: Result): void {
  const entry = running.get(job.id);
  if (entry === undefined || entry.job !== job) return; // aborted meanwhile
  running.delete(job.id);
  const took = performance.now() - entry.t0;
  busyMs += took;
  ewmaMs = ewmaMs * 0.9 + took * 0.1;
  outIds.push(job.id);
  if (result.status === "SUCCESS") {
    outSt.push(Status.Success);
    outData.push(result.value as Uint8Array);
  } else {
    outSt.push(result.userError === false ? Status.FaasadeError : Status.UserError);
    outData.push(result.error as Uint8Array);
  }
  if (!pumping) pump();
}

function abort(ids: string[]): void {
  const drop = new Set(ids);
  for (let i = head; i < queue.length; i++) {
    if (drop.has((queue[i] as Job).id)) (queue[i] as Job).id = "";
  }
  for (const id of ids) {
    const entry = running.get(id);
    if (entry === undefined) continue;
    entry.job.ctx?.abort(new InputCancelledError("the input was cancelled or timed out"));
  }
  // Skipped jobs are marked with an empty id; drop them from the queue.
  const kept = queue.slice(head).filter((j) => j.id !== "");
  queue.length = 0;
  head = 0;
  queue.push(...kept);
}

function takeResults(): { ids: string[]; st: Status[]; lens: number[]; data: Uint8Array; busyMs: number } {
  const taken = { ids: outIds, st: outSt, lens: outData.map((d) => d.byteLength), data: Buffer.concat(outData), busyMs };
  outIds = [];
  outSt = [];
  outData = [];
  busyMs = 0;
  return taken;
}

function runningList(): [string, number][] {
  return [...running.values()].map((r) => [r.job.id, r.at]);
}

/**
 * Announce every start when inputs are long enough that one message each costs little
 * (≥ PRECISE_MS), when several run at once, or while a long async input is known to run.
 */
function isPrecise(): boolean {
  return sticky || maxInputs > 1 || ewmaMs >= PRECISE_MS;
}

function report(precise = isPrecise()): void {
  lastSend = Date.now();
  send({ t: "out", ...takeResults(), running: runningList(), precise });
}

function encodeSafe(err: unknown): Uint8Array {
  try {
    return encode(err, "error");
  } catch {
    return encode(new Error(String(err)), "error");
  }
}

void main();
