/**
 * Function URL events (payload format 2.0) as faasade's wire request, checked: a malformed one
 * (fields of the wrong type, bad base64, a method, header or URL that no `Request` takes) is an
 * `InvalidError` naming the field, which the handler answers with 400.
 */
import { InvalidError, describe } from "../../core/errors.js";
import type { WireRequest } from "../../core/web.js";
import { isBase64 } from "../../cloud/wire.js";

/** A function URL request (payload format 2.0), for web functions. */
export interface HttpEvent {
  version: "2.0";
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string>;
  requestContext: { domainName?: string; http: { method: string } };
  body?: string;
  isBase64Encoded?: boolean;
}

/** Whether an event means to be a function URL request (then it is checked as one, never taken for something else). */
export function looksLikeHttpEvent(event: unknown): boolean {
  const e = event as Record<string, unknown> | null;
  return typeof e === "object" && e !== null && (e.version === "2.0" || "requestContext" in e || "rawPath" in e);
}

export function httpRequestOf(event: unknown): WireRequest {
  const e = event as Partial<Record<keyof HttpEvent, unknown>>;
  const refuse = (field: string, what: string, got: unknown) =>
    new InvalidError(`function URL event: ${field}: ${what}, got ${describe(got)}`);
  if (e.version !== "2.0") throw refuse("version", 'expected "2.0" (payload format 2.0)', e.version);
  if (typeof e.rawPath !== "string" || !e.rawPath.startsWith("/")) throw refuse("rawPath", "expected a path", e.rawPath);
  if (e.rawQueryString !== undefined && typeof e.rawQueryString !== "string")
    throw refuse("rawQueryString", "expected a string", e.rawQueryString);
  const context = e.requestContext as { domainName?: unknown; http?: { method?: unknown } } | undefined;
  if (typeof context !== "object" || context === null) throw refuse("requestContext", "expected an object", context);
  const method = context.http?.method;
  if (typeof method !== "string") throw refuse("requestContext.http.method", "expected a string", method);
  const domain = context.domainName ?? "localhost";
  if (typeof domain !== "string") throw refuse("requestContext.domainName", "expected a string", domain);
  const headers = e.headers ?? {};
  if (typeof headers !== "object" || headers === null || Array.isArray(headers))
    throw refuse("headers", "expected an object of strings", headers);
  const pairs = Object.entries(headers);
  for (const [name, value] of pairs) if (typeof value !== "string") throw refuse(`headers.${name}`, "expected a string", value);
  if (e.body !== undefined && typeof e.body !== "string") throw refuse("body", "expected a string", e.body);
  if (e.isBase64Encoded !== undefined && typeof e.isBase64Encoded !== "boolean")
    throw refuse("isBase64Encoded", "expected a boolean", e.isBase64Encoded);
  if (e.body !== undefined && e.isBase64Encoded === true && !isBase64(e.body as string))
    throw refuse("body", "expected base64 (isBase64Encoded is true)", e.body);
  const query = e.rawQueryString ? `?${e.rawQueryString}` : "";
  const request: WireRequest = {
    method,
    url: `https://${domain}${e.rawPath}${query}`,
    headers: pairs as [string, string][],
    body: e.body === undefined ? undefined : new Uint8Array(Buffer.from(e.body as string, e.isBase64Encoded ? "base64" : "utf8")),
  };
  try {
    new Request(request.url, { method: request.method, headers: request.headers }); // what the function will be given
  } catch (err) {
    throw new InvalidError(`function URL event: not a valid HTTP request: ${(err as Error).message}`);
  }
  return request;
}
