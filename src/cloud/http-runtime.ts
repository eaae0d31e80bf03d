/**
 * What every HTTP-triggered cloud runtime answers, whatever its framework: a request's body
 * checked as an envelope (405 / 400 naming what was wrong), a call's answer, a queued delivery
 * settled once (pushed over HTTP, as Cloud Tasks does, with the status that tells the platform
 * whether to deliver it again; or handed to a trigger, as Azure's host does), and the deployment's
 * own web function; and, for runtimes on a Node HTTP server, a call answered or streamed to its
 * `ServerResponse`. A runtime adapter only reads its framework's request and writes these answers
 * (src/providers/gcp/runtime.ts, src/providers/azure/runtime.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server } from "node:net";
import { InvalidError } from "../core/errors.js";
import type { Function_ } from "../core/function.js";
import { AttemptStillRunning } from "./attempt-lease.js";
import { type ConsumerPlatform, type DeliveryFacts, consume } from "./consumer.js";
import { answerOnExit } from "./exits.js";
import { keptBy } from "./once.js";
import { answerInvoke, exitAnswer, streamInvoke } from "./invoked.js";
import type { ObjectStore, Queue } from "./primitives.js";
import { functionOf } from "./run-input.js";
import { type Envelope, STREAM_TYPE, checkEnvelope, toWire, unreachable } from "./wire.js";

/** A plain-text answer. */
export interface TextAnswer {
  status: number;
  text: string;
  headers?: Record<string, string>;
}

/** A request's envelope, checked; or the 4xx that says why there is none. */
export function callEnvelope(method: string, body: () => unknown): Envelope | TextAnswer {
  if (method !== "POST") return { status: 405, text: "faasade: calls are POSTed envelopes", headers: { allow: "POST" } };
  try {
    return checkEnvelope(body(), "faasade: the request's envelope");
  } catch (err) {
    return { status: 400, text: (err as Error).message };
  }
}

export const isAnswer = (v: Envelope | TextAnswer): v is TextAnswer => "status" in v && "text" in v;

/** A call's answer as JSON: its outcome, or the store's refusal as a failure of this input. */
export async function callAnswer(
  e: Envelope,
  stores: (name: string) => ObjectStore,
  taskId: string,
  limit: number,
): Promise<unknown> {
  try {
    return await answerInvoke(e, stores, taskId, limit);
  } catch (err) {
    return toWire(unreachable({ ...e, args: new Uint8Array() }, err));
  }
}

/** A queued input's envelope, checked; or why it can never run (a message of what `what` names: "task", "message"). */
export function queuedEnvelope(body: () => unknown, what: string): Envelope | string {
  try {
    const e = checkEnvelope(body(), `faasade: the ${what}'s envelope`);
    if (e.spawn === undefined || e.store === undefined)
      throw new InvalidError(`faasade: the ${what}'s envelope has no spawn target or store: it is not a queued input`);
    return e;
  } catch (err) {
    return (err as Error).message;
  }
}

/** How one queued delivery ended: over (its outcome or retry stored, a duplicate), dropped, or not done. */
export type Settled = { is: "done" } | { is: "dropped"; why: string } | { is: "not done"; err: unknown };

/**
 * One queued delivery, settled once: a body that can never run is logged and dropped; a failure is
 * logged, unless it was handed back while another delivery may run the attempt. `delivery` names it
 * in those lines: what the platform delivers ("task", "message") and its id.
 */
export async function settleDelivery(
  body: () => unknown,
  platform: ConsumerPlatform,
  taskId: string,
  delivery: { what: string; name: string },
  facts: DeliveryFacts = {},
): Promise<Settled> {
  const { what, name } = delivery;
  const e = queuedEnvelope(body, what);
  if (typeof e === "string") {
    console.error(`faasade: dropped ${what} ${name}, which can never run: ${e}`);
    return { is: "dropped", why: e };
  }
  try {
    await consume(e, platform, taskId, facts);
    return { is: "done" };
  } catch (err) {
    if (!(err instanceof AttemptStillRunning)) console.error(`faasade: ${what} ${name} was not done:`, err);
    return { is: "not done", err };
  }
}

/**
 * One pushed delivery of a queued input: 200 when it is over (the outcome or retry stored, a
 * duplicate, or a body that can never run: logged, dropped); 503 when it is not done (handed back
 * while another delivery may run the attempt, or the store or queue kept refusing), so that the
 * platform delivers it again and the attempt lease decides.
 */
export async function deliveryAnswer(
  body: () => unknown,
  platform: ConsumerPlatform,
  taskId: string,
  name: string,
  facts: DeliveryFacts = {},
): Promise<TextAnswer> {
  const settled = await settleDelivery(body, platform, taskId, { what: "task", name }, facts);
  if (settled.is === "done") return { status: 200, text: "done" };
  if (settled.is === "dropped") return { status: 200, text: `dropped: ${settled.why}` };
  const handedBack = settled.err instanceof AttemptStillRunning;
  return { status: 503, text: `${handedBack ? "handed back" : "not done"}: ${(settled.err as Error).message}` };
}

/** What a runtime reads and writes, by the names envelopes give: a container's or bucket's store, a spawn target's queue. */
export interface RuntimeStorage {
  store(name: string): ObjectStore;
  queue(name: string): Queue;
}

/** One store and one queue client per name, as long as the instance lives: `given`'s where it has them, else `made`'s. */
export function rememberedPlatform(made: RuntimeStorage, given: Partial<RuntimeStorage> = {}): ConsumerPlatform {
  const { store = made.store, queue = made.queue } = given;
  return { store: keptBy((name) => store(name)), queue: keptBy((name) => queue(name)) };
}

let web: Promise<Function_ | undefined> | undefined;
/** The deployment's own function (FAASADE_APP, _ENVIRONMENT, _FUNCTION) when it is a web function; undefined for any other. */
export function deployedWebFunction(env: NodeJS.ProcessEnv = process.env): Promise<Function_ | undefined> {
  const fn = env.FAASADE_FUNCTION;
  if (fn === undefined || fn === "") return Promise.resolve(undefined);
  web ??= functionOf({ app: env.FAASADE_APP ?? "", env: env.FAASADE_ENVIRONMENT ?? "main", fn }).then((h) =>
    typeof h !== "string" && h.definition().spec.options.web ? h : undefined,
  );
  return web;
}

/** A request body's JSON, or an `InvalidError` saying why there is none. */
export function jsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidError(`faasade: the request's body (${text.length} characters) is not JSON: ${(err as Error).message}`);
  }
}

/** A plain-text answer's status, headers and body, as any framework's response takes them. */
export const textResponse = (a: TextAnswer) => ({
  status: a.status,
  headers: { ...a.headers, "content-type": "text/plain; charset=utf-8" },
  body: a.text,
});

/** Writes a plain-text answer. */
export function sendText(res: ServerResponse, a: TextAnswer): void {
  const { status, headers, body } = textResponse(a);
  res.writeHead(status, headers).end(body);
}

/** A handler whose failure is a 500 with its message (or a cut stream), never an unhandled rejection. */
export function guarded<Q extends IncomingMessage, S extends ServerResponse>(run: (req: Q, res: S) => Promise<void>) {
  return (req: Q, res: S): void =>
    void run(req, res).catch((err: unknown) => {
      console.error("faasade: the request failed:", err);
      if (!res.headersSent) sendText(res, { status: 500, text: String((err as Error)?.message ?? err) });
      else res.destroy();
    });
}

/** The server a request came through (Node sets `socket.server` on every accepted connection). */
const serverOf = (req: IncomingMessage): Server | undefined => (req.socket as { server?: Server } | undefined)?.server;

/**
 * A synchronous call's answer as JSON. A `process.exit` in user code answers it with the exit
 * code, closing the connection: the caller's next request must not reuse one to an instance that is gone.
 */
export async function respondToCall(
  req: IncomingMessage,
  res: ServerResponse,
  e: Envelope,
  at: { stores: (name: string) => ObjectStore; taskId: string; limit: number },
): Promise<void> {
  const reply = (answer: unknown, close = false) =>
    res
      .writeHead(200, { "content-type": "application/json", ...(close ? { connection: "close" } : {}) })
      .end(JSON.stringify(answer));
  const exiting = answerOnExit((code) => reply(exitAnswer(e, code, at.taskId), true), serverOf(req));
  reply(await callAnswer(e, at.stores, at.taskId, at.limit).finally(exiting));
}

/** A streamed call: one JSON line per yielded value, each flushed as it comes, then the outcome (or the exit code). */
export async function respondWithStream(
  req: IncomingMessage,
  res: ServerResponse,
  e: Envelope,
  at: { stores: (name: string) => ObjectStore; taskId: string },
): Promise<void> {
  res.writeHead(200, { "content-type": STREAM_TYPE });
  res.flushHeaders();
  const exiting = answerOnExit((code) => res.end(`${JSON.stringify({ o: exitAnswer(e, code, at.taskId) })}\n`), serverOf(req));
  await streamInvoke(e, at.stores, at.taskId, {
    write: (line) => res.write(line),
    end: (line) => res.end(line),
    get closed() {
      return res.writableEnded || res.destroyed;
    },
    onClose: (listener) => res.on("close", () => !res.writableFinished && listener()),
  }).finally(exiting);
}
