/**
 * A web function behind the Functions host: the `@azure/functions` request becomes a Web `Request` (its body
 * streamed in), the function runs as one input (src/cloud/web-function.ts), and its `Response` is handed back
 * with its body as a stream, which the host passes on as it is produced (`enableHttpStream`).
 */
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { runWebFunction } from "../../cloud/web-function.js";
import type { Function_ } from "../../core/function.js";

function webRequestOf(request: HttpRequest): Request {
  const method = request.method.toUpperCase();
  const headers = new Headers(request.headers);
  if (method === "GET" || method === "HEAD" || request.body === null) return new Request(request.url, { method, headers });
  return new Request(request.url, { method, headers, body: request.body, duplex: "half" } as RequestInit);
}

export async function serveWeb(request: HttpRequest, handle: Function_, exposeErrors: boolean): Promise<HttpResponseInit> {
  const answer = await runWebFunction(handle, () => webRequestOf(request), exposeErrors);
  return { status: answer.status, headers: answer.headers, ...(answer.body === null ? {} : { body: answer.body }) };
}
