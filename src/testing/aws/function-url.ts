/**
 * Function URLs on the Lambda test host: an HTTP request becomes a function URL event (payload
 * format 2.0), and the handler's `{ statusCode, headers, body, isBase64Encoded }` the HTTP
 * response, as Lambda's function URLs translate them.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { InvokeResult } from "./environment.js";

/** Lambda's limit on a function URL request or response body (6 MB). */
export const URL_PAYLOAD_LIMIT = 6 * 1024 * 1024;

/** The event a function URL hands its function for this request; `rawPath` is the path under the URL. */
export function urlEvent(req: IncomingMessage, rawPath: string, rawQueryString: string, body: Buffer): unknown {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === "cookie") cookies = (Array.isArray(value) ? value.join("; ") : value).split(/;\s*/);
    else headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query = new URLSearchParams(rawQueryString);
  const queryStringParameters: Record<string, string> = {};
  for (const key of new Set(query.keys())) queryStringParameters[key] = query.getAll(key).join(",");
  const host = headers.host ?? "127.0.0.1";
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    ...(cookies === undefined ? {} : { cookies }),
    headers,
    ...(rawQueryString === "" ? {} : { queryStringParameters }),
    requestContext: {
      accountId: "anonymous",
      apiId: "faasade-test",
      domainName: host,
      domainPrefix: host.split(".")[0],
      http: {
        method: req.method ?? "GET",
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.byteLength === 0 ? {} : { body: body.toString("base64") }),
    isBase64Encoded: body.byteLength > 0,
  };
}

interface UrlResponse {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/** Writes the function's answer as the HTTP response (a function error is a 502, as function URLs answer). */
export function writeUrlResponse(res: ServerResponse, result: InvokeResult): void {
  if (!result.ok) {
    res.writeHead(502, { "content-type": "application/json" }).end('{"Message":"Internal Server Error"}');
    return;
  }
  let answer: unknown;
  try {
    answer = JSON.parse(result.payload.toString("utf8") || "null");
  } catch {
    answer = undefined;
  }
  const shaped = answer !== null && typeof answer === "object" && "statusCode" in answer;
  if (!shaped) {
    // Lambda's rule for anything else: the value is the body of a 200 JSON response.
    res.writeHead(200, { "content-type": "application/json" }).end(result.payload);
    return;
  }
  const r = answer as UrlResponse;
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? "base64" : "utf8");
  const headers: Record<string, string | string[]> = { ...(r.headers ?? {}) };
  if (r.cookies !== undefined && r.cookies.length > 0) headers["set-cookie"] = r.cookies;
  res.writeHead(r.statusCode ?? 200, headers).end(body);
}
