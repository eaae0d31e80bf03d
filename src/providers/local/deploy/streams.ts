/**
 * The inputs of `remote` and `map` calls to a local deployment: run once each (the caller applies
 * its retries), their outcomes streamed back as frames on the request's response as they come.
 * An aborted input gets no outcome, so it is dropped from its stream, which ends when nothing is
 * left to wait for; a caller that goes away takes its inputs with it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe } from "../../../core/errors.js";
import type { FunctionSpec, Input, OutcomeSink, Provider } from "../../../core/provider.js";
import { frame, HttpError } from "./wire.js";

export interface WireInput {
  inputId: string;
  callId: string;
  attempt: number;
  args: Uint8Array;
  parentInputId?: string;
}

/** Ids as faasade makes them (`in-…`, `fc-…`); containers receive a batch's ids joined by "\n". */
const ID = /^[A-Za-z0-9_.:-]{1,200}$/;

/** A client's input, checked before anything runs: a bad one is refused with 400 naming the field. */
export function checkWireInput(value: unknown, where: string): WireInput {
  const input = value as Partial<WireInput> | null;
  const refuse = (what: string, got: unknown) => new HttpError(400, `${where}: ${what}, got ${describe(got)}`);
  if (typeof input !== "object" || input === null) throw refuse("expected an input object", input);
  if (typeof input.inputId !== "string" || !ID.test(input.inputId)) throw refuse(`inputId must match ${ID}`, input.inputId);
  if (typeof input.callId !== "string" || !ID.test(input.callId)) throw refuse(`callId must match ${ID}`, input.callId);
  if (!Number.isInteger(input.attempt) || (input.attempt as number) < 1)
    throw refuse("attempt must be an integer ≥ 1", input.attempt);
  if (!(input.args instanceof Uint8Array)) throw refuse("args must be bytes", input.args);
  const parent = input.parentInputId;
  if (parent !== undefined && (typeof parent !== "string" || !ID.test(parent)))
    throw refuse(`parentInputId must match ${ID}`, parent);
  return input as WireInput;
}

export function checkWireInputs(value: unknown, where: string): WireInput[] {
  if (!Array.isArray(value)) throw new HttpError(400, `${where}: expected an array of inputs, got ${describe(value)}`);
  return value.map((input, i) => checkWireInput(input, `${where}[${i}]`));
}

export class Streams {
  /** Inputs of open streams by id: how to stop waiting for one. */
  private readonly open = new Map<string, () => void>();

  constructor(private readonly provider: Provider) {}

  run(spec: FunctionSpec, inputs: WireInput[], req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "application/x-faasade-frames" });
    let left = inputs.length;
    const index = new Map<Input, number>();
    const items: Input[] = inputs.map((w, i) => {
      const input: Input = {
        inputId: w.inputId,
        callId: w.callId,
        attempt: w.attempt,
        args: w.args,
        parentInputId: w.parentInputId,
      };
      index.set(input, i);
      return input;
    });
    // A client sends inputs again after its connection broke; the old stream may not have seen
    // its close yet. The new stream takes them over: the old copies stop, and stay stopped.
    const takenOver = items.map((input) => input.inputId).filter((id) => this.open.has(id));
    if (takenOver.length > 0) {
      for (const id of takenOver) this.open.get(id)?.();
      this.provider.abort(spec, takenOver);
    }
    const settled = (input: Input) => {
      index.delete(input);
      if (this.open.get(input.inputId) === stops.get(input)) this.open.delete(input.inputId);
      if (--left === 0) res.end();
    };
    const stops = new Map<Input, () => void>();
    for (const input of items) {
      const stop = () => {
        if (index.has(input)) settled(input);
      };
      stops.set(input, stop);
      this.open.set(input.inputId, stop);
    }
    const sink: OutcomeSink = {
      outcome(input, outcome) {
        if (!index.has(input)) return;
        res.write(frame({ t: "o", i: index.get(input), o: outcome }));
        settled(input);
      },
      chunk(input, attempt, value) {
        const i = index.get(input);
        if (i !== undefined) res.write(frame({ t: "c", i, a: attempt, v: value }));
      },
    };
    res.on("close", () => {
      if (left === 0) return;
      // Only inputs this stream still owns: those taken over by a newer stream run on there.
      const owned = [...index.keys()].filter((input) => this.open.get(input.inputId) === stops.get(input));
      for (const input of owned) this.open.delete(input.inputId);
      if (owned.length > 0)
        this.provider.abort(
          spec,
          owned.map((input) => input.inputId),
        );
    });
    req.resume();
    this.provider.submit(spec, items, sink);
  }

  /** Aborts inputs: no outcome follows for them, and the streams waiting on them end without them. */
  abort(spec: FunctionSpec, inputIds: readonly string[], terminateContainers: boolean): void {
    this.provider.abort(spec, inputIds, { terminateContainers });
    for (const id of inputIds) this.open.get(id)?.();
  }
}
