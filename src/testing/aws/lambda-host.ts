/**
 * A Lambda test host (a test double, not an emulator): it serves Lambda's Invoke and
 * InvokeWithResponseStream REST APIs, and the few concurrency settings faasade uses
 * (provisioned and reserved concurrency), on 127.0.0.1, by running the real runtime handlers
 * in child processes, one per execution environment, as Lambda does: one event at a time per
 * environment, a timeout that ends the environment, a crash that answers a function error.
 */
import { type ChildProcess, fork } from "node:child_process";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

export interface HostedFunction {
  /** Lambda function timeout (ms): past it, the environment is stopped. */
  timeoutMs: number;
  memoryMb?: number | undefined;
  /** Reserved concurrency, as deploy sets it from `maxContainers`. */
  reserved?: number | undefined;
}

export interface FunctionError {
  errorType: string;
  errorMessage: string;
}

export type InvokeResult = { ok: true; result: unknown } | { ok: false; error: FunctionError };

export interface LambdaHost {
  readonly url: string;
  /** Runs an event now (the SQS poller's way in); throws `Throttled` past reserved concurrency. */
  invoke(name: string, event: unknown): Promise<InvokeResult>;
  /** Environments that could take an event now (reserved concurrency minus busy). */
  free(name: string): number;
  close(): Promise<void>;
}

export class Throttled extends Error {}

const CHILD = fileURLToPath(new URL("./lambda-child.js", import.meta.url));
/** Lambda's limit on a synchronous invoke's request and response payloads (6 MB). */
const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
const codec = new EventStreamCodec(toUtf8, fromUtf8);

class Environment {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  busy = false;
  lastUsed = Date.now();
  private next = 0;
  private readonly pending = new Map<number, (m: { t: string; [k: string]: unknown }) => void>();
  exited: { code: number | null; signal: string | null } | undefined;

  constructor(
    module: string,
    fn: HostedFunction,
    env: Record<string, string>,
    readonly name: string,
    n: number,
  ) {
    this.child = fork(CHILD, [], {
      env: {
        ...process.env,
        ...env,
        FAASADE_LAMBDA_MODULE: module,
        AWS_LAMBDA_LOG_STREAM_NAME: `2026/01/01/[$LATEST]${name}-${n}`,
      },
      execArgv: fn.memoryMb === undefined ? [] : [`--max-old-space-size=${fn.memoryMb}`],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once("message", (m: { t: string; errorMessage?: string }) =>
        m.t === "ready" ? resolve() : reject(new Error(m.errorMessage)),
      );
      this.child.once("exit", () => reject(new Error("the environment exited during init")));
    });
    this.ready.catch(() => {});
    this.child.on("message", (m: { id?: number; t: string }) => {
      if (m.id !== undefined) this.pending.get(m.id)?.(m);
    });
    this.child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      for (const done of this.pending.values()) done({ t: "exit", code, signal });
      this.pending.clear();
    });
  }

  /** Sends one request; `onMessage` sees every answer until it returns true (done). */
  request(t: "invoke" | "stream", event: unknown, onMessage: (m: { t: string; [k: string]: unknown }) => boolean): number {
    const id = this.next++;
    this.pending.set(id, (m) => {
      if (onMessage(m)) this.pending.delete(id);
    });
    this.child.send({ id, t, event });
    return id;
  }

  abort(id: number): void {
    if (this.exited === undefined) this.child.send({ id, t: "abort" });
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}

interface FunctionState {
  fn: HostedFunction;
  envs: Set<Environment>;
  reserved: number | undefined;
  provisioned: number;
  count: number;
}

export async function startLambdaHost(options: {
  module: string;
  functions: Map<string, HostedFunction>;
  env: Record<string, string>;
}): Promise<LambdaHost> {
  const states = new Map<string, FunctionState>();
  for (const [name, fn] of options.functions)
    states.set(name, { fn, envs: new Set(), reserved: fn.reserved, provisioned: 0, count: 0 });

  const spawnEnv = (name: string, s: FunctionState) => {
    const e = new Environment(options.module, s.fn, options.env, name, s.count++);
    s.envs.add(e);
    e.child.once("exit", () => s.envs.delete(e));
    return e;
  };
  const busyCount = (s: FunctionState) => [...s.envs].filter((e) => e.busy).length;
  const acquire = (name: string): { s: FunctionState; e: Environment } => {
    const s = states.get(name);
    if (s === undefined) throw Object.assign(new Error(`Function not found: ${name}`), { notFound: true });
    if (s.reserved !== undefined && busyCount(s) >= s.reserved) throw new Throttled("Rate Exceeded.");
    const idle = [...s.envs].find((e) => !e.busy && e.exited === undefined);
    const e = idle ?? spawnEnv(name, s);
    e.busy = true;
    return { s, e };
  };
  const releaseEnv = (e: Environment) => {
    e.busy = false;
    e.lastUsed = Date.now();
  };

  /** Runs one event in an environment, with the function's timeout; streams chunks to `onChunk`. */
  const run = async (
    name: string,
    kind: "invoke" | "stream",
    event: unknown,
    onChunk: (text: string) => void = () => {},
    signal?: AbortSignal,
  ): Promise<InvokeResult> => {
    const { s, e } = acquire(name);
    try {
      await e.ready;
    } catch (err) {
      releaseEnv(e);
      e.kill();
      return { ok: false, error: { errorType: "Runtime.ImportModuleError", errorMessage: (err as Error).message } };
    }
    return new Promise<InvokeResult>((resolve) => {
      const timer = setTimeout(() => {
        e.kill();
        resolve({
          ok: false,
          error: {
            errorType: "Sandbox.Timedout",
            errorMessage: `Task timed out after ${(s.fn.timeoutMs / 1000).toFixed(2)} seconds`,
          },
        });
      }, s.fn.timeoutMs);
      const id = e.request(kind, event, (m) => {
        if (m.t === "chunk") {
          onChunk(m.data as string);
          return false;
        }
        clearTimeout(timer);
        releaseEnv(e);
        if (m.t === "done") resolve({ ok: true, result: m.result });
        else if (m.t === "error")
          resolve({ ok: false, error: { errorType: m.errorType as string, errorMessage: m.errorMessage as string } });
        else {
          const how = m.signal ? `signal: ${m.signal}` : `exit status ${m.code}`;
          resolve({ ok: false, error: { errorType: "Runtime.ExitError", errorMessage: `Runtime exited with error: ${how}` } });
        }
        return true;
      });
      signal?.addEventListener("abort", () => e.abort(id));
    });
  };

  const body = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks)));
    });
  const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
    res
      .writeHead(status, { "content-type": "application/json", ...headers })
      .end(value === undefined ? undefined : JSON.stringify(value));
  };
  const awsError = (res: ServerResponse, status: number, type: string, message: string) =>
    json(res, status, { Type: "User", message }, { "x-amzn-errortype": type });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const [version, area, name, action] = parts;
    const s = name === undefined ? undefined : states.get(name);
    if (area !== "functions" || name === undefined) return awsError(res, 404, "ResourceNotFoundException", "no such route");
    if (s === undefined) return awsError(res, 404, "ResourceNotFoundException", `Function not found: ${name}`);
    const payload = await body(req);
    if (version === "2015-03-31" && action === "invocations") {
      if (payload.byteLength > SYNC_PAYLOAD_LIMIT) {
        return awsError(
          res,
          413,
          "RequestTooLargeException",
          `Request must be smaller than ${SYNC_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`,
        );
      }
      let result: InvokeResult;
      try {
        result = await run(name, "invoke", JSON.parse(payload.toString("utf8") || "null"));
      } catch (err) {
        if (err instanceof Throttled) return awsError(res, 429, "TooManyRequestsException", err.message);
        throw err;
      }
      if (result.ok && Buffer.byteLength(JSON.stringify(result.result)) > SYNC_PAYLOAD_LIMIT) {
        const error = {
          errorType: "Function.ResponseSizeTooLarge",
          errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT} bytes).`,
        };
        return json(res, 200, error, { "x-amz-function-error": "Unhandled", "x-amz-executed-version": "1" });
      }
      if (result.ok) return json(res, 200, result.result, { "x-amz-executed-version": "1" });
      return json(res, 200, result.error, { "x-amz-function-error": "Unhandled", "x-amz-executed-version": "1" });
    }
    if (version === "2021-11-15" && action === "response-streaming-invocations") {
      const frameOf = (type: string, bytes: Uint8Array) =>
        codec.encode({
          headers: {
            ":event-type": { type: "string", value: type },
            ":message-type": { type: "string", value: "event" },
            ":content-type": { type: "string", value: type === "PayloadChunk" ? "application/octet-stream" : "application/json" },
          },
          body: bytes,
        });
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
          "stream",
          JSON.parse(payload.toString("utf8") || "null"),
          (text) => {
            start();
            if (!res.destroyed) res.write(frameOf("PayloadChunk", new Uint8Array(Buffer.from(text))));
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
      return;
    }
    if (version === "2019-09-30" && action === "provisioned-concurrency") {
      if (req.method === "PUT") {
        const n = (JSON.parse(payload.toString("utf8")) as { ProvisionedConcurrentExecutions: number })
          .ProvisionedConcurrentExecutions;
        s.provisioned = n;
        while ([...s.envs].length < n) spawnEnv(name, s);
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
      const allocated = Math.min(s.provisioned, s.envs.size);
      return json(res, 200, {
        RequestedProvisionedConcurrentExecutions: s.provisioned,
        AllocatedProvisionedConcurrentExecutions: allocated,
        Status: "READY",
      });
    }
    if (version === "2017-10-31" && action === "concurrency") {
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
    }
    return awsError(res, 404, "ResourceNotFoundException", `no such route: ${req.method} ${url.pathname}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) awsError(res, 500, "ServiceException", (err as Error).message);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  // Environments that are not provisioned leave after a while idle, as Lambda's do.
  const reaper = setInterval(() => {
    for (const s of states.values()) {
      let keep = s.provisioned;
      for (const e of s.envs) {
        if (e.busy) continue;
        if (keep > 0) keep--;
        else if (Date.now() - e.lastUsed > 30_000) e.kill();
      }
    }
  }, 5000);
  reaper.unref();
  return {
    url: `http://127.0.0.1:${port}`,
    invoke: (name, event) => run(name, "invoke", event),
    free(name) {
      const s = states.get(name);
      if (s === undefined) return 0;
      return (s.reserved ?? 10) - busyCount(s);
    },
    async close() {
      clearInterval(reaper);
      for (const s of states.values()) for (const e of s.envs) e.kill();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
