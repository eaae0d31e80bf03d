/**
 * The invoker primitive on Cloud Functions (2nd gen): an HTTPS POST of the envelope to the
 * function's URL with a Google ID token whose audience is that URL. A generator's call asks for
 * `application/x-ndjson` and reads the chunked answer line by line as it arrives. The platform's
 * own answers become platform failures: a 500 (functions-framework's crash answer, or an
 * instance that died) or a connection lost while the function ran is a crash, a 504 a timeout;
 * refusals before the request reached the function (429, 503, a refused connection) are sent
 * again by the core's ride-through.
 */
import type { Invoker, PlatformFailure } from "../../cloud/primitives.js";
import { ExecutionError, InvalidError, NotFoundError, ProviderError } from "../../core/errors.js";
import type { FunctionSpec } from "../../core/provider.js";
import { TransportError, rideThrough } from "../../core/transport.js";
import { type GcpClients, gcpCall } from "./clients.js";

/**
 * Cloud Functions takes requests up to 32 MB and answers up to 32 MB (10 MB streamed): half of
 * that inline leaves room for JSON and base64, and sends a 20 MB argument through Cloud Storage.
 */
export const CALL_INLINE_BYTES = 16 * 1024 * 1024;
/** What a streamed call asks for, and the runtime answers with: one JSON line per value, then the outcome. */
export const STREAM_TYPE = "application/x-ndjson";

export interface HttpInvokerOptions {
  /** The function's HTTPS URL (`Function.url`), also the ID token's audience. */
  urlOf(fn: FunctionSpec): string | Promise<string>;
  /** A Google ID token for `audience`; `googleIdTokens(clients)` in production. */
  idToken(audience: string): Promise<string>;
}

/** Connections that never reached the function: nothing ran, the request is sent again. */
const NEVER_SENT = new Set(["ECONNREFUSED", "EAI_AGAIN", "ENOTFOUND", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * An instance lost mid-call. Past the function's timeout it was the runtime's watchdog ending an
 * instance stuck in busy code (src/cloud/watchdog.ts; Cloud Run would let it run on): a timeout.
 */
const crash = (fn: FunctionSpec, startedAt: number, detail: string): PlatformFailure =>
  Date.now() - startedAt >= fn.options.timeoutMs
    ? {
        status: "TIMEOUT",
        message: `function ${JSON.stringify(fn.name)} timed out after ${fn.options.timeoutMs} ms: its instance was ended with the input still running (${detail})`,
      }
    : {
        status: "FAILURE",
        message: `the function's instance crashed or exited while running ${JSON.stringify(fn.name)} (${detail})`,
      };

const networkCode = (err: unknown): string | undefined => {
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
};

/** The function's own answer, and when its request was sent. */
type Answer = Response & { startedAt: number };

/** One POST: the response when it came from the function, the platform's failure, or a thrown refusal. */
async function post(
  options: HttpInvokerOptions,
  fn: FunctionSpec,
  body: string,
  signal: AbortSignal,
  streamed: boolean,
): Promise<Answer | PlatformFailure> {
  const url = await options.urlOf(fn);
  const token = await gcpCall("ID token", () => options.idToken(url));
  const startedAt = Date.now();
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: streamed ? STREAM_TYPE : "application/json",
      },
      body,
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    const code = networkCode(err) ?? "no code";
    if (NEVER_SENT.has(code)) throw new TransportError(`gcp POST ${url} failed: ${code}`, { cause: err });
    return crash(fn, startedAt, `the connection was lost: ${code}`);
  }
  if (response.ok) return Object.assign(response, { startedAt });
  const said = (await response.text().catch(() => "")).split("\n")[0]?.slice(0, 300) ?? "";
  return refusal(fn, url, response.status, said, startedAt);
}

/** A non-2xx answer: a platform failure to report, or an error to throw (passing ones are ridden through). */
function refusal(fn: FunctionSpec, url: string, status: number, said: string, startedAt: number): PlatformFailure {
  const where = `gcp POST ${url} answered ${status}${said ? `: ${said}` : ""}`;
  if (status === 429 || status === 503) throw new TransportError(where);
  if (status === 500 || status === 502) return crash(fn, startedAt, `HTTP ${status}${said ? `: ${said}` : ""}`);
  if (status === 504 || status === 408)
    return { status: "TIMEOUT", message: `function ${JSON.stringify(fn.name)} timed out in Cloud Functions (HTTP ${status})` };
  if (status === 401 || status === 403)
    throw new ProviderError(
      `${where}: the caller's ID token was refused; it needs roles/run.invoker (run.routes.invoke) on the function's Cloud Run service`,
    );
  if (status === 404) throw new NotFoundError(`${where}: is the function deployed?`);
  if (status === 400) throw new InvalidError(where);
  if (status === 413) throw new ExecutionError(`${where}: the request is above Cloud Functions' 32 MB limit`);
  throw new ProviderError(where);
}

/** Reads an answer's body as lines as they arrive; a connection lost on the way is a crash. */
async function readLines(
  fn: FunctionSpec,
  response: Answer,
  onLine: (line: string) => void,
): Promise<PlatformFailure | undefined> {
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for await (const chunk of response.body ?? []) {
      pending += decoder.decode(chunk as Uint8Array, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    }
  } catch (err) {
    return crash(fn, response.startedAt, `the answer was cut off: ${networkCode(err) ?? (err as Error).message}`);
  }
  pending += decoder.decode();
  if (pending !== "") onLine(pending);
  return undefined;
}

export function httpInvoker(options: HttpInvokerOptions): Invoker {
  const send = (fn: FunctionSpec, body: string, signal: AbortSignal, streamed: boolean) =>
    rideThrough(() => post(options, fn, body, signal, streamed), { signal });
  return {
    callLimit: CALL_INLINE_BYTES,
    async call(fn, body, signal) {
      const answer = await send(fn, body, signal, false);
      if (!(answer instanceof Response)) return { failure: answer };
      try {
        return { text: await answer.text() };
      } catch (err) {
        if (signal.aborted) throw err;
        return { failure: crash(fn, answer.startedAt, `the answer was cut off: ${networkCode(err) ?? (err as Error).message}`) };
      }
    },
    async stream(fn, body, signal, onLine) {
      const answer = await send(fn, body, signal, true);
      if (!(answer instanceof Response)) return answer;
      const failure = await readLines(fn, answer, onLine);
      if (failure !== undefined && signal.aborted) throw signal.reason;
      return failure;
    },
  };
}

/** ID tokens from Google's auth (ADC: a service account key, gcloud, the metadata server), one client per audience. */
export function googleIdTokens(clients: Pick<GcpClients, "auth">): (audience: string) => Promise<string> {
  const byAudience = new Map<string, Promise<{ getRequestHeaders(): Promise<Headers> }>>();
  return async (audience) => {
    let client = byAudience.get(audience);
    if (client === undefined) {
      client = clients.auth().then((auth) => auth.getIdTokenClient(audience));
      byAudience.set(audience, client);
      client.catch(() => byAudience.delete(audience));
    }
    // The client caches its token until shortly before it expires.
    const authorization = (await (await client).getRequestHeaders()).get("authorization") ?? "";
    if (!authorization.startsWith("Bearer "))
      throw new ProviderError(`gcp: no ID token for ${audience}: the credentials gave no Bearer token`);
    return authorization.slice("Bearer ".length);
  };
}
