/**
 * The invoker primitive over HTTPS, for every cloud whose functions answer at a URL (Cloud
 * Functions, Azure Functions): a POST of the envelope with the platform's credentials in its
 * headers. A generator's call asks for `application/x-ndjson` and reads the chunked answer line
 * by line as it arrives. The platform's own answers become platform failures: a 500/502 or an
 * answer cut off is a crash (a timeout once the function's timeout had passed: an instance ended
 * for running over), a 504 a timeout; a 429, a 503 or no answer at all (a refused or broken
 * connection to the platform's front) is sent again by the core's ride-through.
 */
import type { IncomingMessage } from "node:http";
import { ExecutionError, InvalidError, NotFoundError, ProviderError } from "../core/errors.js";
import type { FunctionSpec } from "../core/provider.js";
import { TransportError, rideThrough } from "../core/transport.js";
import { post as postOver, readText } from "./http-post.js";
import type { Invoker, PlatformFailure } from "./primitives.js";
import { fieldOf } from "./sdk-errors.js";
import { STREAM_TYPE } from "./wire.js";

export interface HttpInvokerOptions {
  /** The provider's name, in messages: "gcp". */
  platform: string;
  /** The function's HTTPS URL. */
  urlOf(fn: FunctionSpec): string | Promise<string>;
  /** The credentials of one request of `fn` to `url` (an `Authorization` header, a function key). */
  headers(url: string, fn: FunctionSpec): Promise<Record<string, string>>;
  /** Bytes a request or an answer may carry inline; larger payloads go through the object store. */
  callLimit: number;
  /** What a 401 or 403 means there: the role or key the caller lacks. */
  refused: string;
  /** Where the function runs, in messages: "Cloud Functions". */
  service: string;
  /** The platform's request size limit, in messages: "32 MB". */
  requestLimit: string;
}

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

/** The code of a broken connection (ECONNREFUSED, ECONNRESET, ...). */
const networkCode = (err: unknown) => fieldOf(err, "code", "string");

/** The function's own answer, and when its request was sent. */
interface Answer {
  res: IncomingMessage;
  startedAt: number;
}

/** One POST: the response when it came from the function, the platform's failure, or a thrown refusal. */
async function post(
  options: HttpInvokerOptions,
  fn: FunctionSpec,
  body: string,
  signal: AbortSignal,
  streamed: boolean,
): Promise<Answer | PlatformFailure> {
  const url = await options.urlOf(fn);
  const credentials = await options.headers(url, fn);
  const startedAt = Date.now();
  let res: IncomingMessage;
  try {
    res = await postOver(
      url,
      { ...credentials, "content-type": "application/json", accept: streamed ? STREAM_TYPE : "application/json" },
      body,
      signal,
    );
  } catch (err) {
    // No answer at all: the platform's front (which answers an instance's crash with a status)
    // was not reached, or the connection to it broke; the request is sent again (API.md: calls
    // ride through transport failures, under the same input id).
    if (signal.aborted) throw err;
    throw new TransportError(`${options.platform} POST ${url} failed: ${networkCode(err) ?? (err as Error).message}`, {
      cause: err,
    });
  }
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return { res, startedAt };
  const said = (await readText(res).catch(() => "")).split("\n")[0]?.slice(0, 300) ?? "";
  return refusal(options, fn, { url, status, said, startedAt });
}

/** A non-2xx answer: a platform failure to report, or an error to throw (passing ones are ridden through). */
function refusal(
  o: HttpInvokerOptions,
  fn: FunctionSpec,
  { url, status, said, startedAt }: { url: string; status: number; said: string; startedAt: number },
): PlatformFailure {
  const where = `${o.platform} POST ${url} answered ${status}${said ? `: ${said}` : ""}`;
  if (status === 429 || status === 503) throw new TransportError(where);
  if (status === 500 || status === 502) return crash(fn, startedAt, `HTTP ${status}${said ? `: ${said}` : ""}`);
  if (status === 504 || status === 408)
    return { status: "TIMEOUT", message: `function ${JSON.stringify(fn.name)} timed out in ${o.service} (HTTP ${status})` };
  if (status === 401 || status === 403) throw new ProviderError(`${where}: ${o.refused}`);
  if (status === 404) throw new NotFoundError(`${where}: is the function deployed?`);
  if (status === 400) throw new InvalidError(where);
  if (status === 413) throw new ExecutionError(`${where}: the request is above the ${o.requestLimit} limit of ${o.service}`);
  throw new ProviderError(where);
}

/** Reads an answer's body as lines as they arrive; a connection lost on the way is a crash. */
async function readLines(
  fn: FunctionSpec,
  { res, startedAt }: Answer,
  onLine: (line: string) => void,
): Promise<PlatformFailure | undefined> {
  res.setEncoding("utf8");
  let pending = "";
  try {
    for await (const chunk of res) {
      pending += chunk as string;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    }
  } catch (err) {
    return crash(fn, startedAt, `the answer was cut off: ${networkCode(err) ?? (err as Error).message}`);
  }
  if (pending !== "") onLine(pending);
  return undefined;
}

export function httpInvoker(options: HttpInvokerOptions): Invoker {
  const send = (fn: FunctionSpec, body: string, signal: AbortSignal, streamed: boolean) =>
    rideThrough(() => post(options, fn, body, signal, streamed), { signal });
  return {
    callLimit: options.callLimit,
    async call(fn, body, signal) {
      const answer = await send(fn, body, signal, false);
      if (!("res" in answer)) return { failure: answer };
      try {
        return { text: await readText(answer.res) };
      } catch (err) {
        if (signal.aborted) throw err;
        return { failure: crash(fn, answer.startedAt, `the answer was cut off: ${networkCode(err) ?? (err as Error).message}`) };
      }
    },
    async stream(fn, body, signal, onLine) {
      const answer = await send(fn, body, signal, true);
      if (!("res" in answer)) return answer;
      const failure = await readLines(fn, answer, onLine);
      if (failure !== undefined && signal.aborted) throw signal.reason;
      return failure;
    },
  };
}
