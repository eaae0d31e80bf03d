/**
 * One Lambda execution environment of the test host: a `node <aws-lambda-ric>` process, AWS's
 * own runtime interface client, that loads the task root's index.mjs and asks its Runtime API
 * for events. The Runtime API is a stand-in (a test double) served here on 127.0.0.1, one port
 * per environment (the client takes a host:port only): GET .../invocation/next is answered with
 * the next event, results come back as POST .../invocation/<id>/response (streamed when the
 * response mode header says so, with errors in trailers) or .../<id>/error, and init failures as
 * POST .../init/error. One event at a time, as Lambda runs them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { type InvokeResult, RUNTIME, accepted, apiError, cutOff, errorDocument, readJson } from "./runtime-api.js";

export type { ErrorDocument, InvokeResult } from "./runtime-api.js";

export interface Invocation {
  /** The event, as JSON text. */
  event: string;
  timeoutMs: number;
  /** Response bytes as they arrive (InvokeWithResponseStream); without it they are collected. */
  onChunk?: ((bytes: Buffer) => void) | undefined;
  /** The caller left: a streamed response is cut off, and the function's stream closes. */
  signal?: AbortSignal | undefined;
}

export interface EnvironmentSpec {
  functionName: string;
  /** `index.handler`, or `index.stream` for generator functions, as deploy sets them. */
  handler: string;
  taskRoot: string;
  ricEntry: string;
  execArgv: string[];
  /** The function's environment variables; the Lambda-defined ones are added here. */
  env: Record<string, string>;
  memoryMb: number;
  initType: "on-demand" | "provisioned-concurrency";
  region: string;
}

/** How long an environment may take to reach its first GET /next before its event times out. */
const INIT_LIMIT_MS = 10_000;
const ACCOUNT = "000000000000";

interface Pending {
  inv: Invocation;
  requestId: string;
  resolve: (r: InvokeResult) => void;
  delivered: boolean;
  /** Its answer (response or error) is being received: a GET /next meanwhile is not a skipped answer. */
  answering?: boolean;
  /** While a GET /next that came before the answer waits for it. */
  grace?: NodeJS.Timeout;
  /** Handed over a second time after a lost delivery. */
  redelivered?: boolean;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  onAbort?: () => void;
}

/** How long an answer may trail the runtime's next GET /next (they travel on separate connections). */
const ANSWER_GRACE_MS = 2000;
const STREAM_HANDLER = "index.stream";

type State = "starting" | "idle" | "running" | "draining" | "done" | "exited";

export class Environment {
  readonly logStreamName: string;
  lastUsed = Date.now();
  private state: State = "starting";
  /** Killed, its exit not seen yet: it takes no more events. */
  private stopping = false;
  private readonly server: Server;
  private child: ChildProcess | undefined;
  /** The runtime's GET /next, held until there is an event for it. */
  private waiting: ServerResponse | undefined;
  private pending: Pending | undefined;
  /** The runtime's streamed POST .../response under way, if any. */
  private streaming: ServerResponse | undefined;
  /** An event whose caller left while it ran: its function winds down (past its deadline: killed). */
  private draining: string | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly exitListeners: (() => void)[] = [];

  constructor(private readonly spec: EnvironmentSpec) {
    const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
    this.logStreamName = `${day}/[1]${randomBytes(16).toString("hex")}`;
    this.server = createServer((req, res) => this.route(req, res));
    // As Lambda's Runtime API: connections stay open while the environment lives. Node's default
    // (idle sockets closed after 5 s, requests after 300 s) raced the runtime client reusing a
    // socket, whose "socket hang up" before an answer is an unhandled rejection inside it (a
    // streamed response's headers promise nobody awaits) that ended the environment.
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
    this.server.listen(0, "127.0.0.1", () => this.spawnRuntime());
  }

  /** Can take an event now: waiting for one, about to ask (its last answer is in), or starting. */
  get accepts(): boolean {
    if (this.stopping || this.pending !== undefined) return false;
    return this.state === "idle" || this.state === "done" || this.state === "starting";
  }

  /** Waiting for an event already (preferred over one still starting). */
  get warm(): boolean {
    return this.accepts && this.state !== "starting";
  }

  /** Counts against concurrency: an event assigned or running, or a function still winding down. */
  get busy(): boolean {
    return this.pending !== undefined || this.state === "draining";
  }

  get exited(): boolean {
    return this.state === "exited";
  }

  onExit(listener: () => void): void {
    if (this.state === "exited") listener();
    else this.exitListeners.push(listener);
  }

  /** Runs one event: its answer, a function error, or Lambda's own error (timeout, crash). */
  run(inv: Invocation): Promise<InvokeResult> {
    if (this.pending !== undefined || this.state === "exited") throw new Error("environment is not free");
    return new Promise<InvokeResult>((resolve) => {
      const p: Pending = { inv, requestId: randomUUID(), resolve, delivered: false, settled: false, timer: undefined };
      this.pending = p;
      this.arm(p, inv.timeoutMs + (this.state === "starting" ? INIT_LIMIT_MS : 0));
      if (this.waiting !== undefined) this.deliver();
    });
  }

  kill(): void {
    this.stopping = true;
    this.child?.kill("SIGKILL");
    if (this.child === undefined) this.exit("the environment was stopped before it started");
  }

  private spawnRuntime(): void {
    if (this.state === "exited") return;
    const { port } = this.server.address() as { port: number };
    const s = this.spec;
    const env: Record<string, string> = {
      ...inheritedEnv(),
      ...s.env,
      _HANDLER: s.handler,
      LAMBDA_TASK_ROOT: s.taskRoot,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      AWS_LAMBDA_FUNCTION_NAME: s.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: "1",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(s.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${s.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: this.logStreamName,
      AWS_LAMBDA_INITIALIZATION_TYPE: s.initType,
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      AWS_REGION: s.region,
      AWS_DEFAULT_REGION: s.region,
    };
    const child = spawn(process.execPath, [...s.execArgv, s.ricEntry], {
      cwd: s.taskRoot,
      env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    this.child = child;
    child.on("error", (err) => this.exit(`the runtime could not start: ${err.message}`));
    child.on("exit", (code, signal) =>
      this.exit(`Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`),
    );
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "").split("?")[0] ?? "";
    const invocation = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === "GET" && path === `${RUNTIME}/invocation/next`) this.next(res);
    else if (req.method === "POST" && path === `${RUNTIME}/init/error`) this.failed(req, res);
    else if (req.method === "POST" && invocation !== null) {
      this.answered(decodeURIComponent(invocation[1] ?? ""), invocation[2] === "error", req, res);
    } else apiError(res, 404, "UnknownRoute", `no route ${req.method} ${path}`);
  }

  /** POST .../invocation/<id>/response or /error. */
  private answered(requestId: string, isError: boolean, req: IncomingMessage, res: ServerResponse): void {
    const p = this.pending;
    if (requestId === this.draining) {
      // The answer to an event whose caller left: nobody reads it.
      req.resume();
      if (isError) accepted(res);
      else cutOff(res);
    } else if (p === undefined || !p.delivered || requestId !== p.requestId) {
      apiError(res, 400, "InvalidRequestID", "that request id is not the running invocation's");
    } else {
      // The runtime may ask for the next event on another connection before this body has been read.
      p.answering = true;
      if (isError) this.failed(req, res);
      else this.response(p, req, res);
    }
  }

  /** An error document: the event's (POST .../error), or init's (POST .../init/error, before the process exits). */
  private failed(req: IncomingMessage, res: ServerResponse): void {
    readJson(req, (doc) => {
      this.settle({ ok: false, error: errorDocument(doc, "Runtime.Unknown") });
      accepted(res);
    });
  }

  /** The runtime asks for an event: it is ready (after init), or done with the last one. */
  private next(res: ServerResponse): void {
    clearTimeout(this.drainTimer);
    this.draining = undefined;
    this.waiting = res;
    res.on("close", () => {
      if (this.waiting === res) this.waiting = undefined;
    });
    const p = this.pending;
    if (p?.delivered && p.answering !== true && this.spec.handler === STREAM_HANDLER) {
      // A streaming runtime asks again while its response is still open: as before, that event
      // ends here (its outcome is the stored result, for queued inputs).
      this.skipped();
    } else if (p?.delivered && p.answering !== true) {
      // The answer may still be on its way on another connection: wait for it a moment before
      // calling this a runtime that skipped its answer.
      clearTimeout(p.grace);
      p.grace = setTimeout(() => {
        if (p.answering === true || p.settled) return;
        if (p.redelivered !== true) {
          // AWS's client asks again only after answering: no answer means the event never reached
          // it (its first ask went away with its connection). Hand it over again, once.
          p.redelivered = true;
          p.delivered = false;
        } else this.skipped();
        this.ready();
      }, ANSWER_GRACE_MS);
      return;
    }
    this.ready();
  }

  /** The running event's answer never came. */
  private skipped(): void {
    this.settle({
      ok: false,
      error: {
        errorType: "Runtime.InvalidResponse",
        errorMessage: "the runtime asked for the next event without answering this one",
      },
    });
  }

  /** The runtime waits for an event: hand it the pending one, if any. */
  private ready(): void {
    this.state = "idle";
    this.lastUsed = Date.now();
    if (this.pending !== undefined && !this.pending.delivered) this.deliver();
  }

  private deliver(): void {
    const p = this.pending;
    const res = this.waiting;
    if (p === undefined || res === undefined) return;
    this.waiting = undefined;
    p.delivered = true;
    this.state = "running";
    this.arm(p, p.inv.timeoutMs);
    if (p.inv.signal !== undefined) {
      p.onAbort = () => this.abandon(p);
      if (p.inv.signal.aborted) queueMicrotask(p.onAbort);
      else p.inv.signal.addEventListener("abort", p.onAbort, { once: true });
    }
    res
      .writeHead(200, {
        // Required: the native client reads it without checking, and crashes on a missing one.
        "content-type": "application/json",
        "lambda-runtime-aws-request-id": p.requestId,
        "lambda-runtime-deadline-ms": String(Date.now() + p.inv.timeoutMs),
        "lambda-runtime-invoked-function-arn": `arn:aws:lambda:${this.spec.region}:${ACCOUNT}:function:${this.spec.functionName}:live`,
        "lambda-runtime-trace-id": `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString("hex")};Sampled=0`,
      })
      .end(p.inv.event);
  }

  /** POST .../response: the whole answer, or (streaming mode) chunks, then trailers if it failed. */
  private response(p: Pending, req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    this.streaming = res;
    req.on("data", (chunk: Buffer) => {
      if (p.settled) return;
      if (p.inv.onChunk !== undefined) p.inv.onChunk(chunk);
      else chunks.push(chunk);
    });
    req.on("end", () => {
      if (this.streaming === res) this.streaming = undefined;
      if (p.settled) return;
      const failedType = req.trailers["lambda-runtime-function-error-type"];
      if (failedType !== undefined) {
        let doc: unknown;
        try {
          doc = JSON.parse(Buffer.from(req.trailers["lambda-runtime-function-error-body"] ?? "", "base64").toString("utf8"));
        } catch {
          doc = undefined;
        }
        this.settle({ ok: false, error: errorDocument(doc, failedType) });
      } else {
        this.settle({ ok: true, payload: Buffer.concat(chunks) });
      }
      accepted(res);
    });
  }

  /**
   * The caller left while the event ran: it is answered (nobody reads it), the function's
   * response stream is closed, and the environment takes no event until the function asks for
   * the next one (or, past the event's deadline, is stopped).
   */
  private abandon(p: Pending): void {
    if (p.settled) return;
    this.settle({ ok: true, payload: Buffer.alloc(0) });
    this.state = "draining";
    this.draining = p.requestId;
    this.drainTimer = setTimeout(() => this.kill(), p.inv.timeoutMs);
    if (this.streaming !== undefined) cutOff(this.streaming);
    this.streaming = undefined;
  }

  /** (Re)starts the event's deadline: past it the environment is stopped, as Lambda stops it. */
  private arm(p: Pending, ms: number): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      this.settle({
        ok: false,
        error: {
          errorType: "Sandbox.Timedout",
          errorMessage: `Task timed out after ${(p.inv.timeoutMs / 1000).toFixed(2)} seconds`,
        },
      });
      this.kill();
    }, ms);
  }

  private settle(result: InvokeResult): void {
    const p = this.pending;
    if (p === undefined || p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    clearTimeout(p.grace);
    if (p.onAbort !== undefined) p.inv.signal?.removeEventListener("abort", p.onAbort);
    this.pending = undefined;
    if (this.state === "running") this.state = "done";
    this.lastUsed = Date.now();
    p.resolve({ ...result, requestId: p.requestId });
  }

  private exit(message: string): void {
    if (this.state === "exited") return;
    this.settle({ ok: false, error: { errorType: "Runtime.ExitError", errorMessage: message } });
    this.state = "exited";
    clearTimeout(this.drainTimer);
    this.server.closeAllConnections();
    this.server.close();
    for (const listener of this.exitListeners.splice(0)) listener();
  }
}

/** This process's environment without what is the function's own (its AWS and faasade settings). */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("AWS_") || k.startsWith("FAASADE_") || k.startsWith("LAMBDA_") || k === "_HANDLER")
      continue;
    env[k] = v;
  }
  return env;
}
