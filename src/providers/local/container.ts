/**
 * The parent's side of one local container: forks it, sends it batches, turns its
 * reports into outcomes, enforces `timeoutMs`, and accounts for every input it held
 * when it dies.
 */
import type { ChildProcess } from "node:child_process";
import { applyGraphEvents } from "../../core/call-graph.js";
import { newTaskId } from "../../core/ids.js";
import { Held } from "./held.js";
import { type Deadline, setStarts, Watchdog } from "./watchdog.js";
import { forkContainer, holdProcess } from "./container-process.js";
import type { FunctionSpec, Input, Outcome, OutcomeSink } from "../../core/provider.js";
import {
  fromWire,
  type FromContainer,
  Interner,
  Meta,
  META_FIELDS,
  OUT_FIELDS,
  FrameWriter,
  REPORT_WINDOW_MS,
  type RunMessage,
  type ToContainer,
  type Wire,
  Status,
  unpackFrame,
} from "./protocol.js";

/** Inputs that must run again elsewhere, with their sinks (parallel arrays). */
export interface Reschedule {
  inputs: Input[];
  sinks: OutcomeSink[];
}

export interface ContainerEvents {
  ready(c: Container): void;
  /** Some inputs finished (`count` may be 0 when a timed-out input settled): the pool may send more. */
  drained(c: Container, busyMs: number, count: number): void;
  /** The container is gone; `reschedule` are inputs it held that must run elsewhere, attempt unchanged. */
  exited(c: Container, reschedule: Reschedule): void;
  /** It gave back inputs it held and had not started, as asked by `giveBack()`: they run elsewhere. */
  givenBack(c: Container, inputs: Reschedule): void;
}

/** A container not ready after this (or its function's timeout, if longer) is stopped as hung. */
const START_LIMIT_MS = 60_000;
/** How long a timed-out input gets to honour its aborted signal before its container is killed. */
const ABORT_GRACE_MS = 500;

export class Container {
  readonly taskId = newTaskId();
  /** Inputs sent and not yet finished, by the sequence number this container knows them by. */
  readonly held = new Held();
  ready = false;
  /** Set when the module could not be imported: the pool fails queued inputs with it. */
  initFailure: Omit<Outcome, "inputId" | "attempt"> | undefined;
  private readonly child: ChildProcess;
  /** Announced running inputs: seq → start, on this process's monotonic clock. */
  private readonly running = new Map<number, number>();
  private precise = false;
  private lastReport = performance.now();
  /** When its current work last moved: a result delivered, or work sent while it was idle. */
  private progressAt = performance.now();
  /** A give-back was asked and not answered yet. */
  private givingBack = false;
  private readonly watchdog = new Watchdog(
    () => this.deadline(),
    (blame) => this.onDeadline(blame),
  );
  /** The timed-out input whose container goes unless it settles within ABORT_GRACE_MS. */
  private killing: number | undefined;
  private readonly stderrTail: () => string;
  /** Set when the container sent a malformed message: what it held fails (retried by policy), never runs again here. */
  private unreadable: string | undefined;
  private gone = false;
  /** Stopped on purpose (app closed, call cancelled with terminateContainers): every input it held runs again elsewhere. */
  private rescheduleAll = false;
  /** Takes no more inputs and stops once those it holds are finished (scaledown, a lowered maximum). */
  retiring = false;
  /** Set when the container said it is exiting (its running inputs failed then): it takes nothing new. */
  private exiting = false;
  /** When the process was started, on the monotonic clock. */
  readonly bornAt = performance.now();
  /** Set when it was stopped for not becoming ready in time (a start that hangs). */
  startTimedOut = false;

  constructor(
    private readonly spec: FunctionSpec,
    private readonly events: ContainerEvents,
    execArgv: string[],
  ) {
    // A start that hangs (a stopped process, an import that never settles) must not hold the pool forever.
    const startLimit = Math.max(START_LIMIT_MS, spec.options.timeoutMs);
    setTimeout(() => {
      if (this.ready || this.gone) return;
      this.startTimedOut = true;
      this.kill();
    }, startLimit).unref();
    const proc = forkContainer(spec, this.taskId, execArgv);
    this.child = proc.child;
    this.stderrTail = proc.stderrTail;
    this.child.on("message", (m: FromContainer) => {
      if (this.unreadable !== undefined) return; // being killed: nothing it says counts any more
      try {
        this.onMessage(m);
      } catch (err) {
        // Only user code sends anything else (it can reach process.send): stop the container, not this process.
        this.unreadable = `container sent a message faasade cannot read (${(err as Error)?.message ?? err})`;
        this.kill();
      }
    });
    // "close" comes after the last message, so results sent from the container's exit handler count.
    this.child.on("close", (code, signal) => this.onExit(code, signal));
    this.child.on("error", () => {}); // reported through "close"
  }

  get load(): number {
    return this.held.size;
  }

  /** Whether it holds inputs but has delivered none of them for over `ms`: a long one is holding it. */
  stalled(ms: number): boolean {
    return this.held.size > 0 && performance.now() - this.progressAt > ms;
  }

  /** Ready, not retiring, and not about to be killed for an input that ran past its timeout. */
  get accepting(): boolean {
    return this.ready && this.killing === undefined && !this.gone && !this.retiring && !this.exiting;
  }

  /**
   * Inputs running now, by sequence number. Announced starts are exact; otherwise a container
   * runs its oldest `maxInputs` held inputs (it takes them in order and starts them at once).
   */
  runningSeqs(): number[] {
    if (this.precise) return [...this.running.keys()].filter((seq) => this.held.has(seq));
    const out: number[] = [];
    for (const seq of this.held.seqs()) {
      if (out.length >= this.spec.options.maxInputs) break;
      out.push(seq);
    }
    return out;
  }

  /** For stats, not the hot path: a container still starting runs nothing yet. */
  runningCount(): number {
    return this.ready ? this.runningSeqs().length : 0;
  }

  /** Sends `inputs[from .. from + n)`; those in `announce` must have their start announced (rescheduled after a lost container). */
  send(inputs: readonly Input[], sinks: readonly OutcomeSink[], from: number, n: number, announce: ReadonlySet<Input>): void {
    let bytes = 0;
    for (let i = from; i < from + n; i++) bytes += (inputs[i] as Input).args.byteLength;
    const frame = new FrameWriter(n * META_FIELDS, bytes);
    const meta = frame.numbers;
    let seq0 = -1;
    let ids = "";
    const calls = new Interner();
    const parents = new Interner();
    for (let i = from, at = 0; i < from + n; i++, at += META_FIELDS) {
      const input = inputs[i] as Input;
      const seq = this.held.add(input, sinks[i] as OutcomeSink);
      if (seq0 < 0) seq0 = seq;
      ids = i === from ? input.inputId : `${ids}\n${input.inputId}`;
      meta[at + Meta.Call] = calls.indexOf(input.callId);
      meta[at + Meta.Parent] = input.parentInputId === undefined ? 0 : parents.indexOf(input.parentInputId) + 1;
      meta[at + Meta.Attempt] = input.attempt;
      meta[at + Meta.Announce] = announce.size > 0 && announce.has(input) ? 1 : 0;
      meta[at + Meta.Length] = input.args.byteLength;
      frame.put(input.args);
    }
    if (this.held.size === n) {
      holdProcess(this.child, true);
      this.lastReport = this.progressAt = performance.now();
      this.precise = false;
      this.running.clear();
    }
    const message: RunMessage = ["run", seq0, ids, calls.values, parents.values, frame.wire()];
    this.child.send(message);
    this.watchdog.arm();
  }

  /**
   * Drops queued inputs, aborts running ones; no outcome follows for them. With `terminate`,
   * a container running one of them stops now and its other inputs run again elsewhere.
   */
  abort(drop: ReadonlySet<string>, terminate = false): void {
    const running = terminate ? new Set(this.runningSeqs()) : undefined;
    const seqs: number[] = [];
    let hitRunning = false;
    for (const seq of [...this.held.seqs()]) {
      if (drop.has((this.held.input(seq) as Input).inputId)) {
        this.held.delete(seq);
        seqs.push(seq);
        if (running?.has(seq)) hitRunning = true;
      }
    }
    if (seqs.length === 0) return;
    if (hitRunning) {
      this.stop();
      return;
    }
    if (!this.gone) this.child.send(["abort", seqs] satisfies ToContainer);
    if (this.held.size === 0) this.idle();
  }

  /** Asks for the inputs it holds and has not started (one request at a time); they come back through `givenBack`. */
  giveBack(): void {
    if (this.givingBack || this.gone || !this.ready) return;
    this.givingBack = true;
    this.child.send(["give-back"] satisfies ToContainer);
  }

  kill(): void {
    if (!this.gone) this.child.kill("SIGKILL");
  }

  /** Kills the container at once; every input it held goes back to the pool (which fails them if the app closed). */
  stop(): void {
    this.rescheduleAll = true;
    this.kill();
  }

  /** Takes no more inputs; stops now if idle, else once drained. */
  retire(): void {
    this.retiring = true;
    if (this.held.size === 0) this.kill();
  }

  private onMessage(m: FromContainer): void {
    switch (m[0]) {
      case "ready":
        this.ready = true;
        if (this.held.size === 0) this.idle();
        this.events.ready(this);
        return;
      case "out":
        this.precise = m[4];
        setStarts(this.running, m[3]);
        this.lastReport = performance.now();
        this.deliver(m[1], m[2], m[5]);
        this.watchdog.arm();
        return;
      case "chunk": {
        const input = this.held.input(m[1]);
        if (input !== undefined) this.held.sink(m[1]).chunk(input, input.attempt, fromWire(m[2]));
        return;
      }
      case "graph":
        applyGraphEvents(m[1]);
        return;
      case "init-failed":
        // Nothing is sent before "ready", so no input is held here: the pool fails its queue.
        this.initFailure = { status: "INIT_FAILURE", message: m[1], error: fromWire(m[2]) };
        return;
      case "given-back":
        this.takeBack(m[1]);
        return;
      case "exit":
        this.exiting = true;
        this.deliver(m[1], m[2], m[4]);
        for (const [seq] of m[3]) {
          this.fail(seq, `container exited with code ${m[5]} while running this input`);
        }
        return;
    }
  }

  /** Delivers the `n` results of a frame; `busyUs`: their summed run time. */
  private deliver(n: number, wire: Wire, busyUs: number): void {
    const { numbers, data } = unpackFrame(wire, n * OUT_FIELDS);
    let offset = 0;
    let count = 0;
    let resumed = false;
    for (let at = 0; at < numbers.length; at += OUT_FIELDS) {
      const seq = numbers[at] as number;
      if (seq === this.killing) {
        this.killing = undefined; // the timed-out input did settle: keep the container
        resumed = true;
      }
      const len = numbers[at + 2] as number;
      const bytes = data.subarray(offset, offset + len);
      offset += len;
      const input = this.held.input(seq);
      if (input === undefined) continue;
      const sink = this.held.sink(seq);
      this.held.delete(seq);
      count++;
      const st = numbers[at + 1] as Status;
      const { inputId, attempt } = input;
      // Literal objects of two fixed shapes: this runs once per result.
      sink.outcome(
        input,
        st === Status.Success
          ? { inputId, attempt, status: "SUCCESS", value: bytes, taskId: this.taskId }
          : { inputId, attempt, status: "FAILURE", error: bytes, userError: st === Status.UserError, taskId: this.taskId },
      );
    }
    if (count > 0) this.progressAt = performance.now();
    if (this.held.size === 0) this.idle();
    if (count > 0 || resumed) this.events.drained(this, busyUs / 1000, count);
  }

  private takeBack(seqs: readonly number[]): void {
    this.givingBack = false;
    const back: Reschedule = { inputs: [], sinks: [] };
    for (const seq of seqs) {
      const input = this.held.input(seq);
      if (input === undefined) continue; // aborted meanwhile
      back.inputs.push(input);
      back.sinks.push(this.held.sink(seq));
      this.held.delete(seq);
    }
    if (this.held.size === 0) this.idle();
    if (back.inputs.length > 0) this.events.givenBack(this, back);
  }

  private fail(seq: number, message: string, status: Outcome["status"] = "FAILURE"): void {
    const input = this.held.input(seq);
    if (input === undefined) return;
    const sink = this.held.sink(seq);
    this.held.delete(seq);
    sink.outcome(input, { inputId: input.inputId, attempt: input.attempt, status, message, taskId: this.taskId });
  }

  /**
   * The earliest moment an input this container holds can have run past `timeoutMs`, and that
   * input (undefined: some input, which one is unknown).
   */
  private deadline(): Deadline | undefined {
    if (this.held.size === 0 || this.killing !== undefined || this.gone) return undefined;
    const timeoutMs = this.spec.options.timeoutMs;
    if (!this.precise) {
      // Every input started since the last report started within REPORT_WINDOW_MS of it.
      return { at: this.lastReport + REPORT_WINDOW_MS + timeoutMs, blame: undefined };
    }
    let found: Deadline | undefined;
    for (const [seq, at] of this.running) {
      if (this.held.has(seq) && (found === undefined || at + timeoutMs < found.at)) found = { at: at + timeoutMs, blame: seq };
    }
    return found; // nothing announced: it reports before it starts anything
  }

  private onDeadline(blame: number | undefined): void {
    if (blame === undefined) {
      // An input ran past its timeout, but which one is unknown: kill, and run them all
      // again, each announced, so that the next run names the culprit. No attempt is used.
      this.rescheduleAll = true;
      this.kill();
      return;
    }
    this.fail(blame, `function ${JSON.stringify(this.spec.name)} timed out after ${this.spec.options.timeoutMs} ms`, "TIMEOUT");
    this.killing = blame;
    if (!this.gone) this.child.send(["abort", [blame]] satisfies ToContainer);
    // Sync code cannot see its signal: if the input does not settle, the container goes.
    const grace = setTimeout(() => {
      if (this.killing === blame) this.kill();
    }, ABORT_GRACE_MS);
    grace.unref();
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.gone = true;
    this.watchdog.clear();
    const oom = /heap out of memory|Allocation failed/i.test(this.stderrTail());
    const why = this.unreadable ?? (oom ? "container ran out of memory" : `container exited (${signal ?? `code ${code}`})`);
    const reschedule: Reschedule = { inputs: [], sinks: [] };
    // Running: announced, or else the oldest held (a container starts its inputs in order). Those
    // attempts fail, unless faasade stopped the container itself; the rest run again, announced.
    // Exiting by itself, it already named what it ran; anything sent after that never started.
    const charged = this.killing === undefined && !this.rescheduleAll && !this.exiting;
    const running = charged ? new Set(this.runningSeqs()) : new Set<number>();
    for (const seq of this.held.seqs()) {
      const input = this.held.input(seq) as Input;
      const sink = this.held.sink(seq);
      const known = running.has(seq);
      if (known || this.unreadable !== undefined) {
        const { inputId, attempt } = input;
        sink.outcome(input, { inputId, attempt, status: "FAILURE", message: why, taskId: this.taskId });
      } else {
        reschedule.inputs.push(input);
        reschedule.sinks.push(sink);
      }
    }
    this.held.clear();
    holdProcess(this.child, false);
    this.events.exited(this, reschedule);
  }

  private idle(): void {
    holdProcess(this.child, false);
    if (this.retiring) this.kill();
  }
}
