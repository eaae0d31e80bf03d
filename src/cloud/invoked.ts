/**
 * The runtime side of direct calls, for every cloud: an invoke answers with its outcome (its
 * value in the store when too large to answer inline); a streamed invoke writes one JSON line
 * per yielded value, then the outcome; a web request becomes one input whose Response is the
 * answer. A runtime adapter only decodes its platform's event and writes its platform's answer.
 */
import { decode, encode } from "../core/codec.js";
import { InputCancelledError } from "../core/errors.js";
import { newCallId, newInputId } from "../core/ids.js";
import type { WireRequest, WireResponse } from "../core/web.js";
import { argsOf, offloadOutcome } from "./offload.js";
import type { ObjectStore } from "./primitives.js";
import { runInput } from "./run-input.js";
import { type Envelope, type InvokeAnswer, type StreamLine, lost, toBase64, toWire, unreachable } from "./wire.js";

/** The store an envelope names, by the platform's name for it. */
export type StoreByName = (name: string) => ObjectStore;

const storeOf = (e: Envelope, stores: StoreByName) => (e.store === undefined ? undefined : stores(e.store.name));

/** One direct invoke: its outcome and graph records, offloaded above `limit` bytes. */
export async function answerInvoke(e: Envelope, stores: StoreByName, taskId: string, limit: number): Promise<InvokeAnswer> {
  const store = storeOf(e, stores);
  const { outcome, graph } = await runInput(
    e,
    taskId,
    () => argsOf(store, e),
    () => {},
  );
  const answer = await offloadOutcome(store, toWire(outcome), limit, e.store?.prefix);
  return graph.length > 0 ? { ...answer, graph } : answer;
}

/** What a call answers when its function ends the instance with `process.exit(code)` (exits.ts). */
export function exitAnswer(e: Envelope, code: number, taskId: string): InvokeAnswer {
  return toWire({ ...lost(e, `the function's instance exited with code ${code} while running ${JSON.stringify(e.fn)}`), taskId });
}

/** Where a streamed answer goes. */
export interface LineSink {
  write(line: string): void;
  end(line: string): void;
  /** Whether the caller has gone. */
  readonly closed: boolean;
  /** Called once if the caller goes. */
  onClose(listener: () => void): void;
}

/** A streamed invoke (generators): each value as a line as it is yielded, then the outcome. */
export async function streamInvoke(e: Envelope, stores: StoreByName, taskId: string, out: LineSink): Promise<void> {
  const store = storeOf(e, stores);
  const line = (l: StreamLine) => `${JSON.stringify(l)}\n`;
  let ran: Awaited<ReturnType<typeof runInput>>;
  try {
    ran = await runInput(
      e,
      taskId,
      () => argsOf(store, e),
      (value) => {
        if (!out.closed) out.write(line({ c: toBase64(value) }));
      },
      (ctx) => {
        // The caller left (remoteGen exited early): the generator stops at its next yield.
        out.onClose(() => ctx.abort(new InputCancelledError("the caller stopped reading")));
        return undefined;
      },
    );
  } catch (err) {
    // The store refused (the arguments): the caller is told as a failure of this input, as for a sync call.
    if (!out.closed) out.end(line({ o: toWire(unreachable({ ...e, args: new Uint8Array() }, err)) }));
    return;
  }
  const { outcome, graph } = ran;
  if (!out.closed) out.end(line({ o: graph.length > 0 ? { ...toWire(outcome), graph } : toWire(outcome) }));
}

/** A streamed invoke as a Web stream of its lines (for runtimes that answer with a Web body); cancelled: the caller left. */
export function streamedLines(e: Envelope, stores: StoreByName, taskId: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let closed = false;
  const listeners: (() => void)[] = [];
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const sink: LineSink = {
        write: (line) => controller.enqueue(encoder.encode(line)),
        end: (line) => {
          controller.enqueue(encoder.encode(line));
          controller.close();
          closed = true;
        },
        get closed() {
          return closed;
        },
        onClose: (listener) => listeners.push(listener),
      };
      void streamInvoke(e, stores, taskId, sink).catch((err: unknown) => {
        console.error("faasade: the streamed call failed:", err);
        if (!closed) controller.error(err);
        closed = true;
      });
    },
    cancel() {
      // The caller left (remoteGen exited early): the generator stops at its next yield.
      closed = true;
      for (const listener of listeners.splice(0)) listener();
    },
  });
}

/** What a web request answers: the function's Response, or a status for a failure (details only when exposed). */
export async function answerWeb(
  request: WireRequest,
  fn: { app: string; env: string; fn: string },
  taskId: string,
  exposeErrors: boolean,
): Promise<WireResponse> {
  const envelope: Envelope = {
    v: 1,
    ...fn,
    inputId: newInputId(),
    callId: newCallId(),
    attempt: 1,
    args: toBase64(encode([request], "args")),
  };
  const { outcome } = await runInput(
    envelope,
    taskId,
    () => argsOf(undefined, envelope),
    () => {},
  );
  if (outcome.status === "SUCCESS") return decode(outcome.value as Uint8Array) as WireResponse;
  const text = exposeErrors ? (outcome.message ?? "error") : "internal error";
  return {
    status: outcome.status === "TIMEOUT" ? 504 : 500,
    headers: [["content-type", "text/plain"]],
    body: new TextEncoder().encode(text),
  };
}
