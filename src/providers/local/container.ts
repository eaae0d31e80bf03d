/**
 * The parent's side of one local container: forks it, sends it batches, turns its
 * reports into outcomes, enforces `timeoutMs`, and accounts for every input it held
 * when it dies.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { newTaskId } from "../../core/ids.js";
import type { FunctionSpec, Input, Outcome, OutcomeSink } from "../../core/provider.js";
import {
  ENV,
  type FromContainer,
  Interner,
  Meta,
  META_FIELDS,
  type OutMessage,
  REPORT_WINDOW_MS,
  type RunMessage,
  Status,
} from "./protocol.js";

export interface Job {
  input: Input;
  sink: OutcomeSink;
  /** The container must announce this input's start (it was rescheduled after a lost container). */
  announce: boolean;
}

export interface ContainerEvents {
  ready(c: Container): void;
  /** Some inputs finished: the pool may send more. */
  drained(c: Container, busyMs: number, count: number): void;
  /** The container is gone; `reschedule` are inputs it held that must run elsewhere, attempt unchanged. */
  exited(c: Container, reschedule: Job[]): void;
}

const RUNTIME = fileURLToPath(new URL("./runtime.js", import.meta.url));
/** How long a timed-out input gets to honour its aborted signal before its container is killed. */
const ABORT_GRACE_MS = 500;

export class Container {
  readonly taskId = newTaskId();
  /** Inputs sent and not yet finished, by the sequence number this container knows them by. */
  readonly held = new Map<number, Job>();
  private nextSeq = 0;
  ready = false;
  /** Set when the module could not be imported: the pool fails queued inputs with it. */
  initFailure: Omit<Outcome, "inputId" | "attempt"> | undefined;
  private readonly child: ChildProcess;
  /** Announced running inputs: seq → start (ms since epoch). */
  private running = new Map<number, number>();
  private precise = false;
  private lastReport = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  /** The timed-out input whose container goes unless it settles within ABORT_GRACE_MS. */
  private killing: number | undefined;
  private stderrTail = "";
  private gone = false;

  constructor(
    private readonly spec: FunctionSpec,
    private readonly events: ContainerEvents,
    execArgv: string[],
  ) {
    this.child = fork(RUNTIME, [], {
      execArgv,
      serialization: "advanced",
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      env: {
        ...process.env,
        ...spec.options.env,
        [ENV.taskId]: this.taskId,
        [ENV.module]: spec.module,
        [ENV.app]: spec.app,
        [ENV.environment]: spec.environment,
        [ENV.fn]: spec.name,
        FAASADE_MAX_INPUTS: String(spec.options.maxInputs),
      },
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    this.child.on("message", (m: FromContainer) => this.onMessage(m));
    // "close" comes after the last message, so results sent from the container's exit handler count.
    this.child.on("close", (code, signal) => this.onExit(code, signal));
    this.child.on("error", () => {}); // reported through "close"
  }

  get load(): number {
    return this.held.size;
  }

  send(jobs: Job[]): void {
    const seq0 = this.nextSeq;
    const ids: string[] = [];
    const calls = new Interner();
    const parents = new Interner();
    const meta = new Uint32Array(jobs.length * META_FIELDS);
    const data: Uint8Array[] = [];
    let at = 0;
    for (const job of jobs) {
      const { input } = job;
      this.held.set(this.nextSeq++, job);
      ids.push(input.inputId);
      meta[at + Meta.Call] = calls.indexOf(input.callId);
      meta[at + Meta.Parent] = input.parentInputId === undefined ? 0 : parents.indexOf(input.parentInputId) + 1;
      meta[at + Meta.Attempt] = input.attempt;
      meta[at + Meta.Announce] = job.announce ? 1 : 0;
      meta[at + Meta.Length] = input.args.byteLength;
      data.push(input.args);
      at += META_FIELDS;
    }
    if (this.held.size === jobs.length) {
      this.setRef(true);
      this.lastReport = Date.now();
      this.precise = false;
      this.running.clear();
    }
    const message: RunMessage = {
      t: "run",
      seq0,
      ids: ids.join("\n"),
      calls: calls.values,
      parents: parents.values,
      meta,
      data: Buffer.concat(data),
    };
    this.child.send(message);
    this.arm();
  }

  /** Drops queued inputs, aborts running ones; no outcome follows for them. */
  abort(drop: ReadonlySet<string>): void {
    const seqs: number[] = [];
    for (const [seq, job] of this.held) {
      if (drop.has(job.input.inputId)) {
        this.held.delete(seq);
        seqs.push(seq);
      }
    }
    if (seqs.length === 0) return;
    if (!this.gone) this.child.send({ t: "abort", seqs });
    if (this.held.size === 0) this.idle();
  }

  kill(): void {
    if (!this.gone) this.child.kill("SIGKILL");
  }

  private onMessage(m: FromContainer): void {
    switch (m.t) {
      case "ready":
        this.ready = true;
        if (this.held.size === 0) this.idle();
        this.events.ready(this);
        return;
      case "out":
        this.precise = m.precise;
        this.running = new Map(m.running);
        this.lastReport = Date.now();
        this.deliver(m);
        this.arm();
        return;
      case "chunk": {
        const job = this.held.get(m.seq);
        job?.sink.chunk(job.input.inputId, job.input.attempt, m.data);
        return;
      }
      case "init-failed":
        // Nothing is sent before "ready", so no input is held here: the pool fails its queue.
        this.initFailure = { status: "INIT_FAILURE", message: m.message, error: m.error };
        return;
      case "exit":
        this.deliver(m);
        for (const [seq] of m.running) {
          this.fail(seq, `container exited with code ${m.code} while running this input`);
        }
        return;
    }
  }

  private deliver(m: Pick<OutMessage, "seqs" | "st" | "lens" | "data" | "busyMs">): void {
    let offset = 0;
    let count = 0;
    for (let i = 0; i < m.seqs.length; i++) {
      const seq = m.seqs[i] as number;
      if (seq === this.killing) this.killing = undefined; // the timed-out input did settle: keep the container
      const len = m.lens[i] as number;
      const bytes = m.data.subarray(offset, offset + len);
      offset += len;
      const job = this.held.get(seq);
      if (job === undefined) continue;
      this.held.delete(seq);
      count++;
      const st = m.st[i] as Status;
      const { inputId, attempt } = job.input;
      // Literal objects of two fixed shapes: this runs once per result.
      job.sink.outcome(
        st === Status.Success
          ? { inputId, attempt, status: "SUCCESS", value: bytes, taskId: this.taskId }
          : { inputId, attempt, status: "FAILURE", error: bytes, userError: st === Status.UserError, taskId: this.taskId },
      );
    }
    if (this.held.size === 0) this.idle();
    if (count > 0) this.events.drained(this, m.busyMs, count);
  }

  private fail(seq: number, message: string, status: Outcome["status"] = "FAILURE"): void {
    const job = this.held.get(seq);
    if (job === undefined) return;
    this.held.delete(seq);
    job.sink.outcome({ inputId: job.input.inputId, attempt: job.input.attempt, status, message, taskId: this.taskId });
  }

  /** One timer per container, set to the earliest moment an input it holds can have run past `timeoutMs`. */
  private arm(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    if (this.held.size === 0 || this.killing !== undefined || this.gone) return;
    const timeoutMs = this.spec.options.timeoutMs;
    let deadline: number;
    let blame: number | undefined;
    if (this.precise) {
      if (this.running.size === 0) return; // it reports before it starts anything
      deadline = Number.POSITIVE_INFINITY;
      for (const [seq, at] of this.running) {
        if (this.held.has(seq) && at + timeoutMs < deadline) {
          deadline = at + timeoutMs;
          blame = seq;
        }
      }
      if (blame === undefined) return;
    } else {
      // Every input started since the last report started within REPORT_WINDOW_MS of it.
      deadline = this.lastReport + REPORT_WINDOW_MS + timeoutMs;
    }
    this.watchdog = setTimeout(() => this.onDeadline(blame), Math.max(0, deadline - Date.now()));
    this.watchdog.unref();
  }

  private onDeadline(blame: number | undefined): void {
    if (blame === undefined) {
      // An input ran past its timeout, but which one is unknown: kill, and run them all
      // again, each announced, so that the next run names the culprit. No attempt is used.
      this.kill();
      return;
    }
    this.fail(blame, `function ${JSON.stringify(this.spec.name)} timed out after ${this.spec.options.timeoutMs} ms`, "TIMEOUT");
    this.killing = blame;
    if (!this.gone) this.child.send({ t: "abort", seqs: [blame] });
    // Sync code cannot see its signal: if the input does not settle, the container goes.
    const grace = setTimeout(() => {
      if (this.killing === blame) this.kill();
    }, ABORT_GRACE_MS);
    grace.unref();
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.gone = true;
    if (this.watchdog) clearTimeout(this.watchdog);
    const oom = /heap out of memory|Allocation failed/i.test(this.stderrTail);
    const why = oom ? "container ran out of memory" : `container exited (${signal ?? `code ${code}`})`;
    const reschedule: Job[] = [];
    for (const [seq, job] of this.held) {
      // Known to be running: that attempt fails. Not started, or unknown: it runs again, announced.
      if (this.precise && this.running.has(seq) && this.killing === undefined) {
        const { inputId, attempt } = job.input;
        job.sink.outcome({ inputId, attempt, status: "FAILURE", message: why, taskId: this.taskId });
      } else {
        reschedule.push({ ...job, announce: true });
      }
    }
    this.held.clear();
    this.setRef(false);
    this.events.exited(this, reschedule);
  }

  private idle(): void {
    this.setRef(false);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** A busy container keeps the caller's process alive; an idle one never does. */
  private setRef(on: boolean): void {
    type Refable = { ref?: () => void; unref?: () => void } | null | undefined;
    const handles = [this.child.channel as Refable, this.child.stderr as Refable];
    if (on) {
      this.child.ref();
      for (const h of handles) h?.ref?.();
    } else {
      this.child.unref();
      for (const h of handles) h?.unref?.();
    }
  }
}
