/**
 * Scale-down of a pool's idle containers: a container idle for `scaledownWindowMs` stops, unless
 * the pool still wants it (minContainers, bufferContainers). One timer per idle container, made once
 * and re-set only when it fires early (or, with `rearm`, when the settings change).
 */
import type { Container } from "./container.js";

export class Scaledown {
  private readonly timers = new Map<Container, NodeJS.Timeout>();
  private readonly since = new Map<Container, number>();

  /** `windowMs`: the current scaledownWindowMs; `overWanted`: whether the pool holds more containers than it wants now. */
  constructor(
    private readonly windowMs: () => number,
    private readonly overWanted: () => boolean,
  ) {}

  /** Marks `c` idle from now. */
  idle(c: Container, rearm = false): void {
    this.since.set(c, performance.now());
    if (rearm) clearTimeout(this.timers.get(c));
    if (rearm || !this.timers.has(c)) this.arm(c, this.windowMs());
  }

  /** `c` took work: its idle time starts again when it drains. */
  busy(c: Container): void {
    this.since.delete(c);
  }

  /** `c` is gone. */
  forget(c: Container): void {
    clearTimeout(this.timers.get(c));
    this.timers.delete(c);
    this.since.delete(c);
  }

  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
  }

  private arm(c: Container, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(c);
      const since = this.since.get(c);
      if (since === undefined || c.load > 0) return; // busy: marked idle again when it drains
      const window = this.windowMs();
      const left = since + window - performance.now();
      if (left > 0) this.arm(c, left);
      else if (this.overWanted()) c.retire();
      else this.arm(c, Math.max(window, 1000)); // still wanted (warm or buffer): look again later
    }, ms);
    timer.unref();
    this.timers.set(c, timer);
  }
}
