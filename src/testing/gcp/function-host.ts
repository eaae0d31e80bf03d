/**
 * A Cloud Functions (2nd gen) test host (a test double, not an emulator): on 127.0.0.1 it serves
 * each function at `<url>/<name>` as Cloud Run serves one: the caller's ID token checked (401
 * without one, 403 when the verifier refuses it) unless the function is public; each request
 * sent to an instance with a free slot (`maxInputs` at once per instance), a new instance started
 * while fewer than `maxInstances` run, else the request waits; `minInstances` kept running.
 * Each instance is a process of its own (instance.ts: the real functions-framework server with
 * the faasade runtime and the app's module), so that a crash, an out-of-memory or
 * `process.exit` in user code ends only that instance: its requests in flight fail (a 500, or a
 * cut connection once the answer had begun) and the next request gets a new instance.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { forwardTo, plainText as text, readAll } from "../instance-forward.js";
import { InstancePool } from "../instance-pool.js";

export interface HostedGcpFunction {
  /** The app's module (a file URL), imported by every instance beside the runtime. */
  module: string;
  /** @default 10 */
  maxInstances?: number | undefined;
  /** Requests one instance serves at once (`max_instance_request_concurrency`). @default 1 */
  maxInputs?: number | undefined;
  /** Instances kept running while idle. @default 0 */
  minInstances?: number | undefined;
  /** The request timeout: past it the caller gets a 504 (the instance runs on, as on Cloud Run). @default 60 000 */
  timeoutMs?: number | undefined;
  /** A heap limit for each instance's process, as the function's memory. */
  memoryMb?: number | undefined;
  /** The function's own environment variables (FAASADE_APP, FAASADE_FUNCTION, ...). */
  env?: Record<string, string> | undefined;
  /** Reachable without an ID token (a web function with an `allUsers` invoker binding). */
  public?: boolean | undefined;
}

export interface FunctionHostOptions {
  functions: Record<string, HostedGcpFunction>;
  /** Whether an ID token is good for an audience (the function's URL): the caller's signer and the Tasks stand-in's. */
  verify(token: string, audience: string): boolean | Promise<boolean>;
  /** A module exporting `store(bucket)` and `queue(name)`, which each instance's runtime uses. */
  platform?: string | undefined;
  /** What every instance gets in its environment (endpoints, credentials). */
  env?: Record<string, string> | undefined;
  /** Node flags for each instance (`--import tsx` for a TypeScript app). */
  execArgv?: string[] | undefined;
  /** Idle instances above the minimum leave after this long, as Cloud Run's do. @default 60 000 */
  idleMs?: number | undefined;
}

export interface FunctionHost {
  readonly url: string;
  /** A function's URL, also its ID tokens' audience. */
  urlOf(name: string): string;
  /** Sets a function's minimum instances (what `min_instance_count` does), starting instances as needed. */
  setMinInstances(name: string, n: number): void;
  /** Instances of a function now running or starting. */
  instances(name: string): number;
  /** Process ids of a function's instances. */
  pids(name: string): number[];
  close(): Promise<void>;
}

/** Cloud Functions' request limit. */
const REQUEST_LIMIT = 32 * 1024 * 1024;
/** How long a request waits for a free instance before Cloud Run's 429. */
const PENDING_MS = 30_000;
const INSTANCE_ENTRY = new URL("./instance.js", import.meta.url);

interface FunctionState {
  name: string;
  fn: HostedGcpFunction;
  pool: InstancePool;
}

export async function startFunctionHost(options: FunctionHostOptions): Promise<FunctionHost> {
  const states = new Map<string, FunctionState>();
  const envOf = (name: string, fn: HostedGcpFunction): Record<string, string> => ({
    ...(process.env as Record<string, string>),
    METADATA_SERVER_DETECTION: "none",
    ...options.env,
    ...fn.env,
    K_SERVICE: name,
    K_REVISION: `${name}-00001`,
    FUNCTION_TARGET: "faasade",
    FAASADE_GCP_MODULE: fn.module,
    ...(options.platform ? { FAASADE_GCP_PLATFORM: options.platform } : {}),
  });
  for (const [name, fn] of Object.entries(options.functions)) {
    const heap = fn.memoryMb === undefined ? [] : [`--max-old-space-size=${fn.memoryMb}`];
    const pool = new InstancePool({
      entry: INSTANCE_ENTRY,
      env: () => envOf(name, fn),
      execArgv: [...(options.execArgv ?? []), ...heap],
      maxInstances: fn.maxInstances ?? 10,
      min: fn.minInstances ?? 0,
    });
    states.set(name, { name, fn, pool });
  }
  let url = "";

  const acquire = (s: FunctionState) => s.pool.acquire(s.fn.maxInputs ?? 1, PENDING_MS);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = new URL(req.url ?? "/", "http://127.0.0.1");
    const [, first = "", ...rest] = target.pathname.split("/");
    const s = states.get(decodeURIComponent(first));
    if (s === undefined) return text(res, 404, "Error: Page not found (no such function on this host)");
    if (!s.fn.public) {
      const authorization = req.headers.authorization ?? "";
      if (!authorization.startsWith("Bearer "))
        return text(res, 401, "Your client does not have permission: no ID token", { "www-authenticate": "Bearer" });
      const good = await Promise.resolve(options.verify(authorization.slice(7), urlOf(s.name))).catch(() => false);
      if (!good) return text(res, 403, "Your client does not have permission to get URL from this server");
    }
    if (Number(req.headers["content-length"] ?? 0) > REQUEST_LIMIT) return text(res, 413, "Request Entity Too Large");
    // Read whole first: a request refused by an instance that has just exited goes to another one.
    const body = await readAll(req);
    const instance = await acquire(s);
    if (instance === undefined) return text(res, 429, "Rate exceeded: no available instance");
    const path = `/${rest.join("/")}${target.search}`;
    await forwardTo(s.pool, instance, { method: req.method ?? "GET", path, headers: req.headers, body }, res, {
      timeoutMs: s.fn.timeoutMs ?? 60_000,
      timedOut: { status: 504, text: "upstream request timeout" },
      crashHeaders: { "x-google-status": "crash" },
      slots: s.fn.maxInputs ?? 1,
      pendingMs: PENDING_MS,
    });
  };

  const urlOf = (name: string) => `${url}/${encodeURIComponent(name)}`;
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, (err as Error).message);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const s of states.values()) s.pool.keepMin();
  const reaper = setInterval(() => {
    for (const s of states.values()) s.pool.reap(options.idleMs ?? 60_000);
  }, 1000);
  reaper.unref();
  const killAll = () => {
    for (const s of states.values()) s.pool.killAll();
  };
  process.once("exit", killAll);
  const stateOf = (name: string) => {
    const s = states.get(name);
    if (s === undefined) throw new Error(`no function ${JSON.stringify(name)} on this host`);
    return s;
  };
  return {
    url,
    urlOf,
    setMinInstances: (name, n) => stateOf(name).pool.setMin(n),
    instances: (name) => stateOf(name).pool.live().length,
    pids: (name) => stateOf(name).pool.pids(),
    async close() {
      clearInterval(reaper);
      process.off("exit", killAll);
      const exits = [...states.values()].map((s) => s.pool.close());
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(exits);
    },
  };
}
