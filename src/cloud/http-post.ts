/**
 * One POST over node:http / node:https through keep-alive agents shared by the process, for the
 * HTTPS invoker (http-invoker.ts). Not `fetch`: on a map of short calls, fetch's WHATWG request,
 * streams and signal bookkeeping cost the caller about twice the CPU per call (351 against 169 µs
 * against the gcp stand-in, docs/performance.md), and a client that calls thousands of times a
 * second spends that on every call. Nothing else differs: the same request, the same answer.
 */
import { Agent as HttpAgent, type IncomingMessage, type OutgoingHttpHeaders, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** Free sockets are reused newest first, so the pool's others age out instead of meeting a server's idle close. */
const agentOptions = { keepAlive: true, scheduling: "lifo" } as const;
let httpAgent: HttpAgent | undefined;
let httpsAgent: HttpsAgent | undefined;

const parsed = new Map<string, URL>();
/** Function URLs are few and asked for on every call: each is parsed once. */
function urlOf(url: string): URL {
  let u = parsed.get(url);
  if (u === undefined) parsed.set(url, (u = new URL(url)));
  return u;
}

/**
 * POSTs `body` to `url`; resolves with the answer once its status and headers arrive (its body is
 * read by the caller), rejects when no answer came: the connection failed or broke (the error
 * carries the socket's `code`), or `signal` aborted.
 */
export function post(url: string, headers: OutgoingHttpHeaders, body: string, signal: AbortSignal): Promise<IncomingMessage> {
  const u = urlOf(url);
  const secure = u.protocol === "https:";
  const agent = secure ? (httpsAgent ??= new HttpsAgent(agentOptions)) : (httpAgent ??= new HttpAgent(agentOptions));
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(u, {
      method: "POST",
      agent,
      signal,
      headers: { ...headers, "content-length": Buffer.byteLength(body) },
    });
    req.once("response", resolve);
    // `on`, not `once`: a second error on a dying socket would otherwise be thrown at the process.
    req.on("error", reject);
    req.end(body);
  });
}

/** An answer's whole body as text; rejects when the connection breaks before its end. */
export async function readText(res: IncomingMessage): Promise<string> {
  res.setEncoding("utf8");
  let text = "";
  for await (const chunk of res) text += chunk as string;
  return text;
}
