/**
 * The wire of the Runtime API stand-in: what Lambda's runtime interface client posts (error
 * documents), what the host answers it, and what an event's run resolves with. environment.ts
 * serves it; this file holds the shapes and the small answers, so that the environment's file
 * is its state machine alone.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export const RUNTIME = "/2018-06-01/runtime";

/** Lambda's error document: what the runtime posts, and what Invoke answers on a function error. */
export interface ErrorDocument {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** An event's answer, or its error; `requestId` is the one the runtime was given (Lambda's x-amzn-RequestId). */
export type InvokeResult = ({ ok: true; payload: Buffer } | { ok: false; error: ErrorDocument }) & { requestId?: string };

/** The error document a runtime posted, with `fallbackType` where it named none. */
export function errorDocument(doc: unknown, fallbackType: string): ErrorDocument {
  const d = (doc ?? {}) as Partial<ErrorDocument>;
  return {
    errorType: typeof d.errorType === "string" ? d.errorType : fallbackType,
    errorMessage: typeof d.errorMessage === "string" ? d.errorMessage : "",
    ...(Array.isArray(d.trace) ? { trace: d.trace } : {}),
  };
}

/** The request's body as JSON; `undefined` when it is not JSON. */
export function readJson(req: IncomingMessage, then: (value: unknown) => void): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    try {
      then(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    } catch {
      then(undefined);
    }
  });
}

/**
 * Answers a streamed response early and closes its connection: the runtime's request (and so the
 * function's response stream) closes, and the runtime goes on to its next event. A reset before
 * any answer would instead crash the runtime interface client (an unhandled rejection inside it).
 */
export function cutOff(res: ServerResponse): void {
  if (!res.headersSent) res.writeHead(200, { "content-type": "application/json", connection: "close" }).end('{"status":"OK"}');
}

/** 202, as the Runtime API answers a posted response or error. */
export function accepted(res: ServerResponse): void {
  res.writeHead(202, { "content-type": "application/json" }).end('{"status":"OK"}');
}

/** One of the Runtime API's own errors (an unknown route, a wrong request id). */
export function apiError(res: ServerResponse, status: number, errorType: string, errorMessage: string): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ errorType, errorMessage }));
}
