/**
 * The timer that finds a container's input past its `timeoutMs`. Deadlines mostly move later as
 * reports arrive, so the timer is only reset when the deadline moves earlier; when it fires early,
 * it sets itself again. It stays set (unref'd) while idle: it finds nothing due, and costs no timer per call.
 */

/** When the earliest held input can have run past its timeout, and which (undefined: some input, unknown). */
export interface Deadline {
  at: number;
  blame: number | undefined;
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;

  /** `deadline`: the current one, if any; `due`: called once it has passed. */
  constructor(
    private readonly deadline: () => Deadline | undefined,
    private readonly due: (blame: number | undefined) => void,
  ) {}

  arm(): void {
    const next = this.deadline();
    if (next === undefined) return;
    if (this.timer !== undefined) {
      if (this.timerAt <= next.at) return;
      clearTimeout(this.timer);
    }
    this.timerAt = next.at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const now = this.deadline();
        if (now === undefined) return;
        if (now.at > performance.now()) this.arm();
        else this.due(now.blame);
      },
      Math.max(0, next.at - performance.now()),
    );
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * Running inputs as the container reports them (how long each has run) turned into starts on
 * this process's monotonic clock, in `starts` (emptied first): deadlines hold when the wall
 * clock jumps, in either process.
 */
export function setStarts(starts: Map<number, number>, running: readonly (readonly [number, number])[]): void {
  starts.clear();
  if (running.length === 0) return;
  const now = performance.now();
  for (const [seq, ranMs] of running) starts.set(seq, now - ranMs);
}
