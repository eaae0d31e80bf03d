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
import { type ChildProcess, fork } from "node:child_process";
import { Agent, type IncomingMessage, type ServerResponse, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

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

class Instance {
  readonly child: ChildProcess;
  readonly port: Promise<number>;
  readonly agent = new Agent({ keepAlive: true });
  inFlight = 0;
  dead = false;
  ready = false;
  lastUsed = Date.now();

  constructor(env: Record<string, string>, execArgv: string[]) {
    this.child = fork(INSTANCE_ENTRY, [], { env, execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.port = new Promise<number>((resolve, reject) => {
      this.child.once("message", (m: { port?: number }) => {
        this.ready = true;
        if (typeof m?.port === "number") resolve(m.port);
      });
      this.child.once("exit", (code, signal) =>
        reject(new Error(`the instance exited while starting (${signal ?? `code ${code}`})`)),
      );
    });
    this.port.catch(() => {});
    this.child.once("exit", () => {
      this.dead = true;
      this.agent.destroy();
    });
  }

  kill(): void {
    this.dead = true;
    this.child.kill("SIGKILL");
  }
}

interface FunctionState {
  name: string;
  fn: HostedGcpFunction;
  instances: Set<Instance>;
  min: number;
  waiting: (() => void)[];
}

export async function startFunctionHost(options: FunctionHostOptions): Promise<FunctionHost> {
  const states = new Map<string, FunctionState>();
  for (const [name, fn] of Object.entries(options.functions))
    states.set(name, { name, fn, instances: new Set(), min: fn.minInstances ?? 0, waiting: [] });
  let url = "";
  let closing = false;

  const spawn = (s: FunctionState): Instance => {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      METADATA_SERVER_DETECTION: "none",
      ...options.env,
      ...s.fn.env,
      K_SERVICE: s.name,
      K_REVISION: `${s.name}-00001`,
      FUNCTION_TARGET: "faasade",
      FAASADE_GCP_MODULE: s.fn.module,
      ...(options.platform ? { FAASADE_GCP_PLATFORM: options.platform } : {}),
    };
    const heap = s.fn.memoryMb === undefined ? [] : [`--max-old-space-size=${s.fn.memoryMb}`];
    const instance = new Instance(env, [...(options.execArgv ?? []), ...heap]);
    s.instances.add(instance);
    instance.child.once("exit", () => {
      s.instances.delete(instance);
      wake(s);
      if (!closing) keepMin(s);
    });
    return instance;
  };
  const live = (s: FunctionState) => [...s.instances].filter((i) => !i.dead);
  const keepMin = (s: FunctionState) => {
    for (let n = live(s).length; n < s.min; n++) spawn(s);
  };
  const wake = (s: FunctionState) => {
    for (const w of s.waiting.splice(0)) w();
  };

  /** An instance with a free slot (a warm one first), a new one, or the wait for one; undefined past PENDING_MS. */
  const acquire = async (s: FunctionState): Promise<Instance | undefined> => {
    const deadline = Date.now() + PENDING_MS;
    const maxInputs = s.fn.maxInputs ?? 1;
    for (;;) {
      const running = live(s);
      const free = running.filter((i) => i.inFlight < maxInputs).sort((a, b) => Number(b.ready) - Number(a.ready));
      const chosen = free[0] ?? (running.length < (s.fn.maxInstances ?? 10) ? spawn(s) : undefined);
      if (chosen !== undefined) {
        chosen.inFlight++;
        return chosen;
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        s.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  const release = (s: FunctionState, i: Instance) => {
    i.inFlight--;
    i.lastUsed = Date.now();
    wake(s);
  };

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
    await forward(s, instance, { req, body }, res, `/${rest.join("/")}${target.search}`);
  };

  const forward = async (
    s: FunctionState,
    i: Instance,
    { req, body }: { req: IncomingMessage; body: Buffer },
    res: ServerResponse,
    path: string,
    rerouted = false,
  ) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let given = false; // the host ended the request itself (caller gone, timeout): not the instance's fault
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      release(s, i);
    };
    const crashed = (detail: string) => {
      if (given || settled) return;
      i.kill(); // an instance whose connection broke is not sent more requests
      if (!res.headersSent) text(res, 500, `the instance crashed or exited: ${detail}`, { "x-google-status": "crash" });
      else res.destroy();
      settle();
    };
    let port: number;
    try {
      port = await i.port;
    } catch (err) {
      return crashed((err as Error).message);
    }
    const up = request({ host: "127.0.0.1", port, method: req.method, path, headers: req.headers, agent: i.agent });
    timer = setTimeout(() => {
      given = true;
      if (!res.headersSent) text(res, 504, "upstream request timeout");
      else res.destroy();
      up.destroy();
      settle();
    }, s.fn.timeoutMs ?? 60_000);
    res.on("close", () => {
      if (settled || res.writableFinished) return;
      given = true; // the caller left: the instance's connection closes too, as Cloud Run's does
      up.destroy();
      settle();
    });
    up.on("error", (err) => {
      // Refused: the request never reached the instance (it has just exited). Cloud Run routes around it.
      if (
        (err as NodeJS.ErrnoException).code === "ECONNREFUSED" &&
        !given &&
        !settled &&
        !res.headersSent &&
        rerouted === false
      ) {
        i.kill();
        settle();
        void acquire(s).then((next) =>
          next === undefined
            ? text(res, 429, "Rate exceeded: no available instance")
            : forward(s, next, { req, body }, res, path, true),
        );
        return;
      }
      crashed((err as Error).message);
    });
    up.on("response", (answer) => {
      // An instance that closes its connection is ending (faasade's runtime says so as it exits):
      // nothing more is routed to it, as Cloud Run routes nothing to an instance that is shutting down.
      if (answer.headers.connection === "close") i.dead = true;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on("close", () => (answer.complete ? settle() : crashed("the answer was cut off")));
    });
    up.end(body);
  };

  const readAll = async (req: IncomingMessage): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
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
  for (const s of states.values()) keepMin(s);
  const reaper = setInterval(() => {
    for (const s of states.values()) {
      let keep = s.min;
      for (const i of live(s)) {
        if (i.inFlight > 0) continue;
        if (keep > 0) keep--;
        else if (Date.now() - i.lastUsed > (options.idleMs ?? 60_000)) i.kill();
      }
    }
  }, 1000);
  reaper.unref();
  const killAll = () => {
    for (const s of states.values()) for (const i of s.instances) i.kill();
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
    setMinInstances(name, n) {
      const s = stateOf(name);
      s.min = n;
      keepMin(s);
    },
    instances: (name) => live(stateOf(name)).length,
    pids: (name) => live(stateOf(name)).flatMap((i) => (i.child.pid === undefined ? [] : [i.child.pid])),
    async close() {
      closing = true;
      clearInterval(reaper);
      process.off("exit", killAll);
      const exits = [...states.values()].flatMap((s) =>
        [...s.instances].map(
          (i) => new Promise<void>((r) => (i.child.exitCode !== null ? r() : i.child.once("exit", () => r()))),
        ),
      );
      killAll();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all(exits);
    },
  };
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain", ...headers }).end(body);
}
