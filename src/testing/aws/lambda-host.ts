/**
 * A Lambda test host (a test double, not an emulator): it serves Lambda's Invoke and
 * InvokeWithResponseStream REST APIs, the few concurrency settings faasade uses (provisioned
 * and reserved concurrency), GetFunctionUrlConfig, and the function URLs themselves, on
 * 127.0.0.1. Events run in execution environments (environment.ts: AWS's runtime interface
 * client, one process each) as Lambda runs them: one event at a time per environment, a
 * timeout that ends the environment, a crash that answers a function error.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { Environment, type EnvironmentSpec, type InvokeResult } from "./environment.js";
import { URL_PAYLOAD_LIMIT, urlEvent, writeUrlResponse } from "./function-url.js";
import { need } from "./optional.js";
import { sigV4Refusal } from "./sigv4.js";
import type { TaskRoot } from "./task-root.js";

export type { InvokeResult } from "./environment.js";

export interface HostedFunction {
  /** Lambda function timeout (ms): past it, the environment is stopped. */
  timeoutMs: number;
  /** Lambda's memory size (MB), as the environment is told it. */
  memoryMb: number;
  /** A heap limit for the environment's process: the function's own `memoryMb`, when it sets one. */
  heapMb?: number | undefined;
  /** `index.handler`, or `index.stream` (generators). */
  handler: string;
  /** The function's own environment variables (deploy's FAASADE_* and the function's env). */
  env: Record<string, string>;
  /** Reserved concurrency, as deploy sets it from `maxContainers`. */
  reserved?: number | undefined;
  /** A web function: its function URL, IAM-authenticated when `auth`. */
  web?: { auth: boolean } | undefined;
}

export interface LambdaHost {
  readonly url: string;
  /** Runs an event now (the SQS poller's way in); throws `Throttled` past reserved concurrency. */
  invoke(name: string, event: unknown): Promise<InvokeResult>;
  /** Environments that could take an event now (reserved concurrency minus busy). */
  free(name: string): number;
  close(): Promise<void>;
}

export class Throttled extends Error {}

/** Lambda's limit on a synchronous invoke's request and response payloads (6 MB). */
const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** Concurrency of a function without reserved concurrency (Lambda's is the account's; 10 keeps tests small). */
const UNRESERVED = 10;
/** Environments that are not provisioned leave after this long idle, as Lambda's do. */
const IDLE_MS = 30_000;

interface FunctionState {
  fn: HostedFunction;
  envs: Set<Environment>;
  reserved: number | undefined;
  provisioned: number;
}

export async function startLambdaHost(options: {
  functions: Map<string, HostedFunction>;
  taskRoot: TaskRoot;
  /** What every environment gets (endpoints, credentials); the host adds its own URL. */
  env: Record<string, string>;
  region: string;
  /** What an AWS_IAM function URL checks the requests' signatures against. */
  credentials: { accessKeyId: string; secretAccessKey: string };
}): Promise<LambdaHost> {
  const { EventStreamCodec } = await need("@smithy/eventstream-codec", () => import("@smithy/eventstream-codec"));
  const { fromUtf8, toUtf8 } = await need("@smithy/util-utf8", () => import("@smithy/util-utf8"));
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const states = new Map<string, FunctionState>();
  for (const [name, fn] of options.functions) states.set(name, { fn, envs: new Set(), reserved: fn.reserved, provisioned: 0 });
  let url = "";

  const spawnEnv = (name: string, s: FunctionState, initType: EnvironmentSpec["initType"]) => {
    const e = new Environment({
      functionName: name,
      handler: s.fn.handler,
      taskRoot: options.taskRoot.dir,
      ricEntry: options.taskRoot.ricEntry,
      execArgv: [...options.taskRoot.execArgv, ...(s.fn.heapMb === undefined ? [] : [`--max-old-space-size=${s.fn.heapMb}`])],
      env: { ...s.fn.env, ...options.env, AWS_ENDPOINT_URL_LAMBDA: url },
      memoryMb: s.fn.memoryMb,
      initType,
      region: options.region,
    });
    s.envs.add(e);
    e.onExit(() => s.envs.delete(e));
    return e;
  };
  const busyCount = (s: FunctionState) => [...s.envs].filter((e) => e.busy).length;
  const stateOf = (name: string) => {
    const s = states.get(name);
    if (s === undefined) throw Object.assign(new Error(`Function not found: ${name}`), { notFound: true });
    return s;
  };
  /** An environment for one event: a warm one, one starting, or a new one (a cold start). */
  const acquire = (name: string): { s: FunctionState; e: Environment } => {
    const s = stateOf(name);
    if (s.reserved !== undefined && busyCount(s) >= s.reserved) throw new Throttled("Rate Exceeded.");
    const free = [...s.envs].filter((e) => e.accepts);
    const e = free.find((x) => x.warm) ?? free[0] ?? spawnEnv(name, s, "on-demand");
    return { s, e };
  };

  const run = (name: string, event: string, onChunk?: (bytes: Buffer) => void, signal?: AbortSignal): Promise<InvokeResult> => {
    const { s, e } = acquire(name);
    return e.run({ event, timeoutMs: s.fn.timeoutMs, onChunk, signal });
  };

  const frameOf = (type: string, bytes: Uint8Array) =>
    codec.encode({
      headers: {
        ":event-type": { type: "string", value: type },
        ":message-type": { type: "string", value: "event" },
        ":content-type": { type: "string", value: type === "PayloadChunk" ? "application/octet-stream" : "application/json" },
      },
      body: bytes,
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] === "url") return functionUrl(req, res, parts[1] ?? "", url);
    const [version, area, name, action] = parts;
    const s = name === undefined ? undefined : states.get(name);
    if (area !== "functions" || name === undefined) return awsError(res, 404, "ResourceNotFoundException", "no such route");
    if (s === undefined) return awsError(res, 404, "ResourceNotFoundException", `Function not found: ${name}`);
    const payload = await body(req);
    if (version === "2015-03-31" && action === "invocations") return invoke(res, name, payload);
    if (version === "2021-11-15" && action === "response-streaming-invocations") return invokeStreaming(res, name, payload);
    if (version === "2019-09-30" && action === "provisioned-concurrency") return provisioned(req, res, name, s, payload);
    if (version === "2017-10-31" && action === "concurrency") return reserved(req, res, s, payload);
    if (version === "2021-10-31" && action === "url" && req.method === "GET") return urlConfig(res, name, s);
    return awsError(res, 404, "ResourceNotFoundException", `no such route: ${req.method} ${url.pathname}`);
  };

  const invoke = async (res: ServerResponse, name: string, payload: Buffer) => {
    if (payload.byteLength > SYNC_PAYLOAD_LIMIT) {
      return awsError(
        res,
        413,
        "RequestTooLargeException",
        `Request must be smaller than ${SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`,
      );
    }
    const event = eventText(payload);
    if (event === undefined)
      return awsError(res, 400, "InvalidRequestContentException", "Could not parse request body into json");
    let result: InvokeResult;
    try {
      result = await run(name, event);
    } catch (err) {
      if (err instanceof Throttled) return awsError(res, 429, "TooManyRequestsException", err.message);
      throw err;
    }
    const executed = { "x-amz-executed-version": "1", ...(result.requestId ? { "x-amzn-requestid": result.requestId } : {}) };
    if (result.ok && result.payload.byteLength > SYNC_PAYLOAD_LIMIT) {
      const error = {
        errorType: "Function.ResponseSizeTooLarge",
        errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT} bytes).`,
      };
      return json(res, 200, error, { "x-amz-function-error": "Unhandled", ...executed });
    }
    if (result.ok) return res.writeHead(200, { "content-type": "application/json", ...executed }).end(result.payload);
    return json(res, 200, result.error, { "x-amz-function-error": "Unhandled", ...executed });
  };

  const invokeStreaming = async (res: ServerResponse, name: string, payload: Buffer) => {
    const event = eventText(payload);
    if (event === undefined)
      return awsError(res, 400, "InvalidRequestContentException", "Could not parse request body into json");
    const aborted = new AbortController();
    res.on("close", () => aborted.abort());
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream", "x-amz-executed-version": "1" });
    };
    let result: InvokeResult;
    try {
      result = await run(
        name,
        event,
        (bytes) => {
          start();
          if (!res.destroyed) res.write(frameOf("PayloadChunk", new Uint8Array(bytes)));
        },
        aborted.signal,
      );
    } catch (err) {
      if (err instanceof Throttled) return awsError(res, 429, "TooManyRequestsException", err.message);
      throw err;
    }
    start();
    const complete = result.ok ? {} : { ErrorCode: result.error.errorType, ErrorDetails: result.error.errorMessage };
    if (!res.destroyed) res.end(frameOf("InvokeComplete", new Uint8Array(Buffer.from(JSON.stringify(complete)))));
  };

  const provisioned = (req: IncomingMessage, res: ServerResponse, name: string, s: FunctionState, payload: Buffer) => {
    if (req.method === "PUT") {
      const n = (JSON.parse(payload.toString("utf8")) as { ProvisionedConcurrentExecutions: number })
        .ProvisionedConcurrentExecutions;
      s.provisioned = n;
      while (s.envs.size < n) spawnEnv(name, s, "provisioned-concurrency");
      return json(res, 202, {
        RequestedProvisionedConcurrentExecutions: n,
        AllocatedProvisionedConcurrentExecutions: n,
        Status: "READY",
      });
    }
    if (req.method === "DELETE") {
      s.provisioned = 0;
      for (const e of s.envs) if (!e.busy) e.kill();
      return json(res, 204, undefined);
    }
    if (s.provisioned === 0)
      return awsError(res, 404, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found");
    return json(res, 200, {
      RequestedProvisionedConcurrentExecutions: s.provisioned,
      AllocatedProvisionedConcurrentExecutions: Math.min(s.provisioned, s.envs.size),
      Status: "READY",
    });
  };

  const reserved = (req: IncomingMessage, res: ServerResponse, s: FunctionState, payload: Buffer) => {
    if (req.method === "PUT") {
      s.reserved = (
        JSON.parse(payload.toString("utf8")) as { ReservedConcurrentExecutions: number }
      ).ReservedConcurrentExecutions;
      return json(res, 200, { ReservedConcurrentExecutions: s.reserved });
    }
    if (req.method === "DELETE") {
      s.reserved = undefined;
      return json(res, 204, undefined);
    }
    return awsError(res, 404, "ResourceNotFoundException", `no such route: ${req.method} concurrency`);
  };

  const functionUrlOf = (name: string) => `${url}/url/${encodeURIComponent(name)}/`;

  const urlConfig = (res: ServerResponse, name: string, s: FunctionState) => {
    if (s.fn.web === undefined) {
      return awsError(res, 404, "ResourceNotFoundException", "The resource you requested does not exist.");
    }
    return json(res, 200, {
      FunctionUrl: functionUrlOf(name),
      FunctionArn: `arn:aws:lambda:${options.region}:000000000000:function:${name}:live`,
      AuthType: s.fn.web.auth ? "AWS_IAM" : "NONE",
      InvokeMode: "BUFFERED",
    });
  };

  /** A request to a function URL: `/url/<function>/<path...>`, any method and path under it. */
  const functionUrl = async (req: IncomingMessage, res: ServerResponse, name: string, target: URL) => {
    const s = states.get(name);
    if (s?.fn.web === undefined) return res.writeHead(404, { "content-type": "application/json" }).end('{"Message":null}');
    const payload = await body(req);
    if (s.fn.web.auth && sigV4Refusal(req, payload, { ...options.credentials, region: options.region }) !== undefined) {
      return res.writeHead(403, { "content-type": "application/json" }).end('{"Message":"Forbidden"}');
    }
    if (payload.byteLength > URL_PAYLOAD_LIMIT) {
      return res.writeHead(413, { "content-type": "application/json" }).end('{"Message":"Request Entity Too Large"}');
    }
    const prefix = `/url/${encodeURIComponent(name)}`;
    const rawPath = target.pathname.slice(prefix.length) || "/";
    const event = JSON.stringify(urlEvent(req, rawPath, target.search.slice(1), payload));
    try {
      writeUrlResponse(res, await run(name, event));
    } catch (err) {
      if (!(err instanceof Throttled)) throw err;
      res.writeHead(429, { "content-type": "application/json" }).end('{"Message":"Too Many Requests"}');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) awsError(res, 500, "ServiceException", (err as Error).message);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const reaper = setInterval(() => {
    for (const s of states.values()) {
      let keep = s.provisioned;
      for (const e of s.envs) {
        if (e.busy) continue;
        if (keep > 0) keep--;
        else if (Date.now() - e.lastUsed > IDLE_MS) e.kill();
      }
    }
  }, 5000);
  reaper.unref();
  // Environments are processes of their own: none outlives this one.
  const killAll = () => {
    for (const s of states.values()) for (const e of s.envs) e.kill();
  };
  process.once("exit", killAll);
  return {
    url,
    invoke: (name, event) => run(name, JSON.stringify(event)),
    free(name) {
      const s = states.get(name);
      if (s === undefined) return 0;
      return (s.reserved ?? UNRESERVED) - busyCount(s);
    },
    async close() {
      clearInterval(reaper);
      process.off("exit", killAll);
      const exits = [...states.values()].flatMap((s) => [...s.envs].map((e) => new Promise<void>((r) => e.onExit(r))));
      killAll();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(exits);
    },
  };
}

/** The request body as the event's JSON text ("null" when empty), or undefined when it is not JSON. */
function eventText(payload: Buffer): string | undefined {
  const text = payload.toString("utf8");
  if (text.trim() === "") return "null";
  try {
    JSON.parse(text);
    return text;
  } catch {
    return undefined;
  }
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { "content-type": "application/json", ...headers })
    .end(value === undefined ? undefined : JSON.stringify(value));
}

function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  json(res, status, { Type: "User", message }, { "x-amzn-errortype": type });
}
