/**
 * What this process knows about a spawned call: its outcome once settled and, for a
 * generator, every value it yielded. `FunctionCall` handles read these records.
 */
import type { AbortOptions, Outcome } from "./provider.js";

export class CallRecord {
  outcome: Outcome | undefined;
  readonly chunks: Uint8Array[] = [];
  /** Cancels what is still live and settles the call TERMINATED; set by whoever drives the call. */
  cancel: ((options: AbortOptions) => void) | undefined;
  /** Whether the provider running the call can stop its containers on cancel. */
  canTerminateContainers = false;
  private waiters: (() => void)[] = [];

  constructor(
    readonly callId: string,
    readonly functionName: string,
    readonly isGenerator: boolean,
  ) {}

  complete(outcome: Outcome): void {
    this.outcome = outcome;
    this.cancel = undefined;
    this.notify();
  }

  pushChunk(value: Uint8Array): void {
    this.chunks.push(value);
    this.notify();
  }

  /** Resolves on the next change (a chunk or the outcome), or `false` after `timeoutMs`. */
  changed(timeoutMs?: number): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** Calls made by this process, by id. A deployment keeps its own (see docs/providers.md). */
export const callRecords = new Map<string, CallRecord>();
