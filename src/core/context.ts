/** `currentInput()`: what a running function knows about the input it serves. */
import { AsyncLocalStorage } from "node:async_hooks";
import { InvalidError } from "./errors.js";

export interface CurrentInput {
  readonly inputId: string;
  readonly functionCallId: string;
  /** Counts from 1. */
  readonly attempt: number;
  /** Fires on cancel or timeout. */
  readonly signal: AbortSignal;
}

/**
 * The context of one running input. The AbortController is made on first use of `signal`:
 * most inputs never look at it, and creating one per input costs more than `x => x * x`.
 */
export class InputContext implements CurrentInput {
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private aborted = false;

  constructor(
    readonly inputId: string,
    readonly functionCallId: string,
    readonly attempt: number,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Whether the input was cancelled or timed out (without creating a signal). */
  get isAborted(): boolean {
    return this.aborted;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}

export const inputStorage = new AsyncLocalStorage<InputContext>();

/**
 * Inside a running function: its input; `undefined` elsewhere (`local()` included). Inside a
 * function, `currentInput.required()` gives the same without `undefined` in its type.
 */
export function currentInput(): CurrentInput | undefined {
  return inputStorage.getStore();
}

/** The input of the running function; `InvalidError` outside one (`local()` included). */
currentInput.required = function required(): CurrentInput {
  const input = inputStorage.getStore();
  if (input === undefined) throw new InvalidError("currentInput.required() called outside a running faasade function");
  return input;
};
