/**
 * The inputs a container holds, by the sequence number it knows them by. Numbers are given in
 * order and mostly finish in order, so a ring indexed by number does the job of a `Map` without
 * rehashing under churn (a map replaces ~1 000 held inputs at 500k+/s).
 */
import type { Input, OutcomeSink } from "../../core/provider.js";

export class Held {
  private inputs: (Input | undefined)[] = new Array(64);
  private sinks: (OutcomeSink | undefined)[] = new Array(64);
  private mask = 63;
  /** Lowest number that may still be held, and the next number to give. */
  private base = 0;
  private end = 0;
  size = 0;

  /** Holds `input` under the next number, which it returns. */
  add(input: Input, sink: OutcomeSink): number {
    if (this.end - this.base > this.mask) this.grow();
    const seq = this.end++;
    this.inputs[seq & this.mask] = input;
    this.sinks[seq & this.mask] = sink;
    this.size++;
    return seq;
  }

  input(seq: number): Input | undefined {
    return seq >= this.base && seq < this.end ? this.inputs[seq & this.mask] : undefined;
  }

  sink(seq: number): OutcomeSink {
    return this.sinks[seq & this.mask] as OutcomeSink;
  }

  has(seq: number): boolean {
    return this.input(seq) !== undefined;
  }

  delete(seq: number): void {
    if (this.input(seq) === undefined) return;
    this.inputs[seq & this.mask] = undefined;
    this.sinks[seq & this.mask] = undefined;
    this.size--;
    while (this.base < this.end && this.inputs[this.base & this.mask] === undefined) this.base++;
  }

  /** Numbers held, oldest first. */
  *seqs(): Generator<number> {
    for (let seq = this.base; seq < this.end; seq++) if (this.inputs[seq & this.mask] !== undefined) yield seq;
  }

  clear(): void {
    this.inputs.fill(undefined);
    this.sinks.fill(undefined);
    this.base = this.end;
    this.size = 0;
  }

  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const inputs: (Input | undefined)[] = new Array(capacity);
    const sinks: (OutcomeSink | undefined)[] = new Array(capacity);
    for (let seq = this.base; seq < this.end; seq++) {
      inputs[seq & (capacity - 1)] = this.inputs[seq & this.mask];
      sinks[seq & (capacity - 1)] = this.sinks[seq & this.mask];
    }
    this.inputs = inputs;
    this.sinks = sinks;
    this.mask = capacity - 1;
  }
}
