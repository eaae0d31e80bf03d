/**
 * The inputs of `remote` and `map` calls sent to a local deployment: one streamed request per
 * submission, outcomes and yielded values read as frames as they come. When the connection
 * breaks (the server restarts, say), the inputs still waiting are sent again under the same ids
 * and attempt, within the core's ride-through window: no attempt is used. A generator input
 * that already yielded cannot start over under the same attempt, so that attempt fails.
 */
import type { ClientRequest } from "node:http";
import { encode } from "../../../core/codec.js";
import type { FaasadeError } from "../../../core/errors.js";
import type { FunctionSpec, Input, Outcome, OutcomeSink } from "../../../core/provider.js";
import { TransportBackoff, TransportError } from "../../../core/transport.js";
import { FrameReader } from "./wire.js";

export interface RunTransport {
  /** Inputs of streams still open, by id: how to stop waiting for one (an abort). */
  open: Map<string, () => void>;
  /** Starts the request; throws when the server cannot be found. */
  send(body: unknown): ClientRequest;
  failure(err: unknown): FaasadeError;
  refusal(status: number, body: Buffer): FaasadeError;
  where: string;
}

type Frame = { t: "o"; i: number; o: Outcome } | { t: "c"; i: number; a: number; v: Uint8Array };

export function runOverHttp(
  fn: FunctionSpec,
  inputs: readonly Input[],
  toWire: (input: Input) => unknown,
  sink: OutcomeSink,
  t: RunTransport,
): void {
  const left = new Set(inputs);
  /** Generator inputs that have yielded: not resent (their values would repeat). */
  const yielded = new Set<Input>();
  const backoff = new TransportBackoff();
  let req: ClientRequest | undefined;
  let retry: NodeJS.Timeout | undefined;

  const forget = (input: Input) => {
    left.delete(input);
    t.open.delete(input.inputId);
  };
  // An aborted input gets no outcome: once none is awaited, the request is let go.
  const release = (input: Input) => {
    forget(input);
    if (left.size > 0) return;
    clearTimeout(retry);
    req?.destroy();
  };
  for (const input of inputs) t.open.set(input.inputId, () => release(input));

  const fail = (targets: Input[], err: FaasadeError) => {
    for (const input of targets) forget(input);
    const error = encode(err, "error");
    for (const input of targets) {
      sink.outcome(input, { inputId: input.inputId, attempt: input.attempt, status: "FAILURE", error, userError: false });
    }
  };

  const broken = (err: FaasadeError) => {
    if (left.size === 0) return;
    const started = [...left].filter((input) => yielded.has(input));
    if (started.length > 0) fail(started, err);
    if (!(err instanceof TransportError)) return fail([...left], err);
    const delay = backoff.next(err);
    if (typeof delay !== "number") return fail([...left], delay);
    retry = setTimeout(attempt, delay);
  };

  const attempt = () => {
    const batch = [...left];
    if (batch.length === 0) return;
    let over = false;
    const once = (err: FaasadeError) => {
      if (over) return;
      over = true;
      req = undefined;
      broken(err);
    };
    try {
      req = t.send({ inputs: batch.map(toWire) });
    } catch (err) {
      queueMicrotask(() => once(t.failure(err)));
      return;
    }
    req.on("error", (err) => once(t.failure(err)));
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => once(t.refusal(res.statusCode ?? 500, Buffer.concat(chunks))));
        return;
      }
      backoff.reset();
      const reader = new FrameReader();
      res.on("data", (chunk: Buffer) =>
        reader.push(chunk, (m) => {
          const msg = m as Frame;
          const input = batch[msg.i] as Input;
          if (!left.has(input)) return;
          if (msg.t === "c") {
            if (fn.isGenerator) yielded.add(input);
            sink.chunk(input, msg.a, msg.v);
          } else {
            forget(input);
            sink.outcome(input, msg.o);
          }
        }),
      );
      res.on("end", () => once(new TransportError(`${t.where} closed the stream before every outcome`)));
      res.on("error", (err) => once(t.failure(err)));
    });
  };
  attempt();
}
