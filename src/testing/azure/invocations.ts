/**
 * Invokes captured `@azure/functions` registrations (functions-core.ts) as the Functions host's Node worker
 * does, with the package's own objects: an HTTP trigger gets a real `HttpRequest` and `InvocationContext`
 * and its answer (an `HttpResponseInit` or an `HttpResponse`) is read as an `HttpResponse`, its body a
 * stream; a queue trigger gets its message parsed when it is a JSON object or array, else as a string (what
 * the host hands a Node function), with the message's metadata in `triggerMetadata`.
 */
import { randomUUID } from "node:crypto";
import azf from "@azure/functions";
import type { HttpResponse, InvocationContext } from "@azure/functions";
import type { Registration } from "./functions-core.js";

export interface HttpCall {
  method: string;
  /** The URL as the function sees it. */
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array | undefined;
  /** Route parameters (`{*path}` → `{ path }`). */
  params?: Record<string, string> | undefined;
}

/** A queue message's facts, as the host puts them in `triggerMetadata`. */
export interface QueueFacts {
  id: string;
  dequeueCount: number;
  popReceipt?: string | undefined;
  insertionTime?: string | undefined;
  expirationTime?: string | undefined;
  nextVisibleTime?: string | undefined;
}

function contextOf(r: Registration, triggerMetadata: Record<string, unknown>): InvocationContext {
  const { $return, ...others } = r.bindings;
  const outputs = Object.values(others).filter((b) => b.direction === "out");
  const inputs = Object.values(others).filter((b) => b.direction === "in" && b !== r.trigger);
  return new azf.InvocationContext({
    invocationId: randomUUID(),
    functionName: r.name,
    triggerMetadata,
    retryContext: { retryCount: 0, maxRetryCount: 0 },
    options: {
      trigger: r.trigger as never,
      return: $return as never,
      extraInputs: inputs as never[],
      extraOutputs: outputs as never[],
    },
  });
}

/** Runs an HTTP trigger; its answer as an `HttpResponse` (a handler's throw is the caller's to answer). */
export async function invokeHttp(r: Registration, call: HttpCall): Promise<HttpResponse> {
  const request = new azf.HttpRequest({
    method: call.method,
    url: call.url,
    headers: call.headers,
    params: call.params ?? {},
    ...(call.body === undefined || call.body.length === 0 ? {} : { body: { bytes: call.body } }),
  });
  const context = contextOf(r, { ...call.params });
  const answer = await r.handler(request, context);
  if (answer instanceof azf.HttpResponse) return answer;
  return new azf.HttpResponse((answer ?? {}) as ConstructorParameters<typeof azf.HttpResponse>[0]);
}

/** What the host hands a Node queue function: a JSON object or array parsed, anything else as its text. */
export function queueInput(text: string): unknown {
  const start = text.trimStart()[0];
  if (start !== "{" && start !== "[") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Runs a queue trigger on one message's text; resolves when the handler returned, rejects when it threw. */
export async function invokeQueue(r: Registration, text: string, facts: QueueFacts): Promise<void> {
  const context = contextOf(r, { ...facts });
  await r.handler(queueInput(text), context);
}
