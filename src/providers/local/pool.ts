/**
 * The container pool of one function: a queue of inputs, containers that scale up under
 * backlog (one starting at a time) and down after `scaledownWindowMs` idle, and dispatch
 * that keeps each container about 50 ms of expected work ahead (prefetch.ts). The autoscaler
 * settings (docs/autoscaler.md) say how many containers to keep: `minContainers` always,
 * `bufferContainers` idle ones on top of the busy ones while the function is busy, never more
 * than `maxContainers`.
 */
import type {
  AbortOptions,
  AutoscalerSettings,
  EffectiveAutoscaler,
  FunctionSpec,
  FunctionStats,
  Input,
  Outcome,
  OutcomeSink,
} from "../../core/provider.js";
import { Container, type Reschedule } from "./container.js";
import { MAX_BATCH, fairShare, prefetchDepth, room } from "./prefetch.js";
import { REPORT_WINDOW_MS } from "./protocol.js";
import { Scaledown } from "./scaledown.js";

/** How long one container's start holds back the next one. */
const START_PATIENCE_MS = 10_000;

/**
 * What inputs still queued or held get when the app closes: cancelled (`InputCancelledError`, a
 * `RemoteError`), so that no retry waits on a closed app and no caller hangs.
 */
export const CLOSED: Omit<Outcome, "inputId" | "attempt"> = {
  status: "TERMINATED",
  message: "the app was closed before this input finished",
};

/** Fails inputs that cannot run, after the current call stack (their sink may still be setting up). */
export function failLater(inputs: readonly Input[], sink: OutcomeSink, outcome: Omit<Outcome, "inputId" | "attempt">): void {
  queueMicrotask(() => {
    for (const input of inputs) sink.outcome(input, { ...outcome, inputId: input.inputId, attempt: input.attempt });
  });
}

export interface PoolOptions {
  /** Containers at most when the function sets no `maxContainers`. */
  defaultMaxContainers: number;
  execArgv: string[];
}

export class Pool {
  /** Queued inputs and their sinks (parallel arrays, from `head`): no object per queued input. */
  private readonly queue: Input[] = [];
  private readonly sinks: OutcomeSink[] = [];
  private head = 0;
  /** Queued inputs whose start must be announced: rescheduled after their container was lost. */
  private readonly announce = new Set<Input>();
  private readonly containers = new Set<Container>();
  private starting = 0;
  /** Measured run time of one input; unknown until the first results, when every container gets one at a time. */
  private estimateMs: number | undefined;
  private scheduled = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly scaledown = new Scaledown(
    () => this.settings.scaledownWindowMs,
    () => this.containers.size > this.wanted(),
  );
  private closed = false;
  /** Set once replaced by a redeployed function's pool: inputs go there, containers drain and stop. */
  private successor: Pool | undefined;
  private settings: AutoscalerSettings;

  constructor(
    readonly spec: FunctionSpec,
    private readonly options: PoolOptions,
  ) {
    const { minContainers, maxContainers, bufferContainers, scaledownWindowMs } = spec.options;
    this.settings = { minContainers, maxContainers, bufferContainers, scaledownWindowMs };
  }

  /** Unset, the provider's default, raised to `minContainers` so that a warm pool is never capped below itself. */
  get maxContainers(): number {
    return this.settings.maxContainers ?? Math.max(this.options.defaultMaxContainers, this.settings.minContainers);
  }

  /**
   * New settings take effect now: warm containers start, idle ones count their scaledown
   * window from now, and containers beyond a lowered maximum stop once their inputs finish.
   */
  configure(settings: AutoscalerSettings): EffectiveAutoscaler {
    this.settings = settings;
    this.retireExcess();
    for (const c of this.containers) if (c.accepting && c.load === 0) this.scaledown.idle(c, true);
    this.ensureCapacity();
    const { minContainers, bufferContainers, scaledownWindowMs } = settings;
    return { minContainers, maxContainers: this.maxContainers, bufferContainers, scaledownWindowMs, unsupported: [] };
  }

  /** Exact: what the pool queued, what each container holds, and which of those it runs. */
  stats(): FunctionStats {
    let held = 0;
    let running = 0;
    for (const c of this.containers) {
      held += c.load;
      running += c.runningCount();
    }
    return { backlog: this.backlog + held - running, numTotalRunners: this.containers.size, numRunningInputs: running };
  }

  submit(inputs: readonly Input[], sink: OutcomeSink): void {
    if (this.successor !== undefined) {
      this.successor.submit(inputs, sink);
      return;
    }
    if (this.closed) {
      failLater(inputs, sink, CLOSED);
      return;
    }
    for (const input of inputs) {
      this.queue.push(input);
      this.sinks.push(sink);
    }
    // A lone call, or work for an idle container, goes out at once; while every container is
    // busy, submissions of one tick share a message.
    if (this.hasIdleOrNone()) this.dispatch();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.dispatch();
      });
    }
  }

  abort(ids: readonly string[], options: AbortOptions = {}): void {
    const drop = new Set(ids);
    let kept = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const input = this.queue[i] as Input;
      if (drop.has(input.inputId)) {
        this.announce.delete(input);
        continue;
      }
      this.queue[this.head + kept] = input;
      this.sinks[this.head + kept++] = this.sinks[i] as OutcomeSink;
    }
    this.queue.length = this.sinks.length = this.head + kept;
    for (const c of this.containers) c.abort(drop, options.terminateContainers === true);
    // A container that held an aborted input has room now: what waits behind it must not stay queued.
    this.dispatch();
  }

  /**
   * Hands this pool over to `next` (the same function, redeployed): queued inputs move there now,
   * containers take nothing new and stop once their inputs finish. Nothing is lost or killed.
   */
  handOver(next: Pool): void {
    this.successor = next;
    const inputs = this.queue.slice(this.head);
    const sinks = this.sinks.slice(this.head);
    this.queue.length = this.sinks.length = 0;
    this.head = 0;
    next.adopt(inputs, sinks, this.announce);
    this.announce.clear();
    this.scaledown.clear();
    for (const c of this.containers) c.retire();
  }

  /** Whether a handed-over pool still has containers finishing inputs. */
  get draining(): boolean {
    return this.successor !== undefined && this.containers.size > 0;
  }

  private adopt(inputs: Input[], sinks: OutcomeSink[], announce: ReadonlySet<Input>): void {
    if (this.closed) {
      inputs.forEach((input, i) => {
        (sinks[i] as OutcomeSink).outcome(input, { ...CLOSED, inputId: input.inputId, attempt: input.attempt });
      });
      return;
    }
    inputs.forEach((input, i) => {
      this.queue.push(input);
      this.sinks.push(sinks[i] as OutcomeSink);
      if (announce.has(input)) this.announce.add(input);
    });
    if (inputs.length > 0) this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.stallTimer);
    this.failQueued(CLOSED);
    this.scaledown.clear();
    for (const c of this.containers) c.stop();
    this.containers.clear();
  }

  private get backlog(): number {
    return this.queue.length - this.head;
  }

  private hasIdleOrNone(): boolean {
    if (this.containers.size === 0) return true;
    for (const c of this.containers) if (c.accepting && c.load === 0) return true;
    return false;
  }

  private depth(): number {
    return prefetchDepth(this.estimateMs, this.spec.options.maxInputs);
  }

  /**
   * How long a container may hold inputs without delivering one before it counts as stalled: a few
   * report windows (results come in reports) and a few typical run times.
   */
  private stallMs(): number {
    return 3 * REPORT_WINDOW_MS + 4 * (this.estimateMs ?? 0);
  }

  private fill(depth: number, stallMs: number, prefetch: boolean): void {
    const { maxInputs } = this.spec.options;
    const share = prefetch ? fairShare(this.backlog, this.prefetchTakers(stallMs)) : MAX_BATCH;
    for (const c of this.containers) {
      if (this.backlog === 0) return;
      const n = c.accepting ? Math.min(room(c, depth, maxInputs, stallMs, prefetch), this.backlog, MAX_BATCH, share) : 0;
      if (n <= 0) continue;
      this.scaledown.busy(c);
      c.send(this.queue, this.sinks, this.head, n, this.announce);
      if (this.announce.size > 0) for (let i = this.head; i < this.head + n; i++) this.announce.delete(this.queue[i] as Input);
      this.head += n;
    }
  }

  /** Containers that take prefetch now: accepting inputs and not stalled. */
  private prefetchTakers(stallMs: number): number {
    let n = 0;
    for (const c of this.containers) if (c.accepting && !c.stalled(stallMs)) n++;
    return n;
  }

  private dispatch(): void {
    if (this.closed || this.successor !== undefined) return;
    const depth = this.depth();
    const stallMs = this.stallMs();
    this.fill(depth, stallMs, false);
    this.fill(depth, stallMs, true);
    this.watchStalls(stallMs);
    // Sent inputs must not stay reachable from the queue: they would outlive young-generation GCs.
    if (this.head === this.queue.length) {
      this.queue.length = this.sinks.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.sinks.splice(0, this.head);
      this.head = 0;
    }
    this.ensureCapacity();
  }

  /**
   * Containers to keep now: `minContainers`, or while the function is busy, one per busy
   * container plus `bufferContainers` idle ones; never more than `maxContainers`.
   */
  private wanted(): number {
    let busy = 0;
    for (const c of this.containers) if (c.load > 0) busy++;
    const active = busy > 0 || this.backlog > 0;
    const { minContainers, bufferContainers } = this.settings;
    return Math.min(this.maxContainers, Math.max(minContainers, active ? busy + bufferContainers : 0));
  }

  private ensureCapacity(): void {
    if (this.closed || this.successor !== undefined) return; // a handed-over pool only drains
    if (this.backlog > 0 || this.containers.size < this.wanted()) this.scaleUp();
  }

  /** Beyond a lowered maximum: idle containers stop now, busy ones take no more inputs and stop once drained. */
  private retireExcess(): void {
    let excess = this.containers.size - this.maxContainers;
    for (const c of this.containers) if (c.retiring) excess--;
    const byLoad = [...this.containers].filter((c) => !c.retiring).sort((a, b) => a.load - b.load);
    for (const c of byLoad) {
      if (excess-- <= 0) break;
      c.retire();
    }
  }

  private scaleUp(): void {
    const max = this.maxContainers;
    // Start a spare only once the previous one is ready: two cold starts at once slow both. A
    // start taking longer than START_PATIENCE_MS no longer holds the next one back (it may hang).
    if (this.startingNow() > 0 || this.containers.size >= max) return;
    this.starting++;
    const container = new Container(
      this.spec,
      {
        ready: (c) => {
          this.starting--;
          this.stopHungStarts(c);
          this.dispatch();
          if (c.load === 0) this.scaledown.idle(c);
          this.ensureCapacity();
        },
        drained: (c, busyMs, count) => {
          if (count > 0) {
            const measured = busyMs / count;
            this.estimateMs = this.estimateMs === undefined ? measured : this.estimateMs * 0.7 + measured * 0.3;
          }
          this.dispatch();
          if (c.load === 0) this.scaledown.idle(c);
        },
        exited: (c, reschedule) => {
          if (!c.ready) this.starting--;
          this.containers.delete(c);
          this.scaledown.forget(c);
          if (!this.requeue(reschedule, true)) return;
          if (c.initFailure !== undefined) this.failQueued(c.initFailure);
          else if (c.startTimedOut && ![...this.containers].some((other) => other.ready)) {
            this.failQueued({ status: "INIT_FAILURE", message: `the container did not become ready within its start limit` });
          }
          if (this.closed) this.failQueued(CLOSED);
          else this.dispatch();
        },
        givenBack: (_c, inputs) => {
          if (!this.requeue(inputs, false)) return;
          if (this.closed) this.failQueued(CLOSED);
          else this.dispatch();
        },
      },
      this.options.execArgv,
    );
    this.containers.add(container);
    setTimeout(() => this.ensureCapacity(), START_PATIENCE_MS).unref();
  }

  /**
   * Puts inputs a container held back at the head of the queue, in order, their starts announced
   * with `announce`; false when they went to the successor pool instead.
   */
  private requeue({ inputs, sinks }: Reschedule, announce: boolean): boolean {
    if (this.successor !== undefined && !this.closed) {
      this.successor.adopt(inputs, sinks, announce ? new Set(inputs) : new Set());
      return false;
    }
    if (inputs.length > 0) {
      this.queue.splice(this.head, 0, ...inputs);
      this.sinks.splice(this.head, 0, ...sinks);
      if (announce) for (const input of inputs) this.announce.add(input);
    }
    return true;
  }

  /**
   * While some container holds inputs beyond its slots, looks every stall period for one that
   * stalled and asks it for the inputs it has not started: they run elsewhere, not behind a long one.
   */
  private watchStalls(stallMs: number): void {
    if (this.stallTimer !== undefined || !this.hasPrefetch()) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      const ms = this.stallMs();
      for (const c of this.containers) if (c.load > this.spec.options.maxInputs && c.stalled(ms)) c.giveBack();
      this.watchStalls(ms);
    }, stallMs);
    this.stallTimer.unref();
  }

  private hasPrefetch(): boolean {
    for (const c of this.containers) if (c.load > this.spec.options.maxInputs) return true;
    return false;
  }

  /** Containers starting for less than START_PATIENCE_MS: the ones a new start waits for. */
  private startingNow(): number {
    if (this.starting === 0) return 0;
    const now = performance.now();
    let n = 0;
    for (const c of this.containers) if (!c.ready && now - c.bornAt < START_PATIENCE_MS) n++;
    return n;
  }

  /** `ready` started after containers still starting past their patience: those are taken to hang, and stopped. */
  private stopHungStarts(ready: Container): void {
    const now = performance.now();
    for (const c of this.containers) {
      if (!c.ready && c.bornAt < ready.bornAt && now - c.bornAt >= START_PATIENCE_MS) c.kill();
    }
  }

  /** The module cannot be imported: every queued input fails that attempt (retried by policy). */
  private failQueued(outcome: Omit<Outcome, "inputId" | "attempt">): void {
    const inputs = this.queue.slice(this.head);
    const sinks = this.sinks.slice(this.head);
    this.queue.length = this.sinks.length = 0;
    this.head = 0;
    this.announce.clear();
    inputs.forEach((input, i) => {
      (sinks[i] as OutcomeSink).outcome(input, { ...outcome, inputId: input.inputId, attempt: input.attempt });
    });
  }
}
