/**
 * An Azure Functions host stand-in (a test double, not the Functions host) for several function apps, by
 * site name, on one 127.0.0.1 port: `<url>/<site>/<route>` reaches that app's HTTP triggers as its host
 * serves them (host.json `routePrefix`, "" as deploy sets it): a route with authLevel "function" needs the
 * site's key (`x-functions-key` or `?code=`), "admin" its master key, "anonymous" nothing (401 otherwise);
 * a request above 100 MB is a 413; past the HTTP cap (230 s: Azure's load balancer's idle timeout) without
 * an answer, or without a byte of an answer begun, the caller's request is cut (a 504 while no answer has
 * begun) while the function runs on. Its storage-queue triggers are dispatched from azurite
 * (queue-dispatch.ts). Each site has a pool of instances (../instance-pool.ts: `maxInstances`, HTTP
 * concurrency per instance, always-ready instances, idle ones reaped), each a process of its own (worker.ts),
 * so that a crash, an out-of-memory or `process.exit` in user code fails only what that instance was running:
 * its HTTP requests get a 500, its queue messages are not deleted and come back.
 */
import { randomBytes } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { QueueServiceClient } from "@azure/storage-queue";
import type { RegisteredFunction } from "./functions-core.js";
import { forwardTo, plainText as text, readAll } from "../instance-forward.js";
import { InstancePool, type PooledInstance } from "../instance-pool.js";
import type { QueueFacts } from "./invocations.js";
import {
  type DispatchCounts,
  type Dispatcher,
  type QueueSettings,
  dispatchQueue,
  newCounts,
  slotsPerInstance,
} from "./queue-dispatch.js";
import { bySpecificity, matchRoute } from "./routes.js";

export interface HostedAzureFunction {
  /** The app's module (a file URL), imported by every instance beside the runtime. */
  module: string;
  /** The app's settings (FAASADE_APP, FAASADE_FUNCTION, FAASADE_AZURE_QUEUE, FAASADE_AZURE_STORAGE, ...). */
  env?: Record<string, string> | undefined;
  /** The function key of its routes with authLevel "function". @default random */
  key?: string | undefined;
  /** @default 10 (a test host's; Flex's is 100) */
  maxInstances?: number | undefined;
  /** HTTP requests one instance serves at once (`perInstanceConcurrency`). @default 16 */
  httpConcurrency?: number | undefined;
  /** Always-ready instances. @default 0 */
  alwaysReady?: number | undefined;
  /** A heap limit for each instance's process, as the instance memory. */
  memoryMb?: number | undefined;
  /** host.json `extensions.http.routePrefix`. @default "" */
  routePrefix?: string | undefined;
  /** host.json `extensions.queues`, and the lease of a running message. */
  queues?: QueueSettings | undefined;
}

export interface AzureFunctionHostOptions {
  sites: Record<string, HostedAzureFunction>;
  /** What every instance gets in its environment (endpoints, credentials). */
  env?: Record<string, string> | undefined;
  /** A module exporting `store(container)` and `queue(name)`, which each instance's runtime uses. */
  platform?: string | undefined;
  /** Node flags for each instance (`--import tsx` for a TypeScript app). */
  execArgv?: string[] | undefined;
  /**
   * How long an HTTP request may wait for its answer, or an answer begun for its next bytes, before the
   * front cuts it (Azure's load balancer's idle timeout). @default 230 000
   */
  httpCapMs?: number | undefined;
  /** Where the instances' output goes ("ignore": fuzzing, whose refusals are logged by the thousand). @default "inherit" */
  logs?: "inherit" | "ignore" | undefined;
  /** Idle instances above the always-ready ones leave after this long. @default 60 000 */
  idleMs?: number | undefined;
  /** The storage the host's own queue listeners use, where it differs from the trigger's connection (a front of the platform's). @default the trigger's connection setting */
  hostConnection?: string | undefined;
}

export interface AzureFunctionHost {
  readonly url: string;
  /** A site's base URL: `<url>/<site>`. */
  urlOf(site: string): string;
  /** A site's function key (and its master key, for "admin" routes). */
  keyOf(site: string): string;
  masterKeyOf(site: string): string;
  /** Sets a site's always-ready instances, starting them as needed. */
  setAlwaysReady(site: string, n: number): void;
  /** Instances of a site now running or starting. */
  instances(site: string): number;
  pids(site: string): number[];
  /** The functions a site registered (known once one instance has started). */
  functions(site: string): RegisteredFunction[] | undefined;
  /** The queue dispatchers' own storage requests, across sites. */
  readonly requests: DispatchCounts;
  close(): Promise<void>;
}

/** Azure Functions' request limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT's default). */
const REQUEST_LIMIT = 104_857_600;
const HTTP_CAP_MS = 230_000;
/** How long a request or a message waits for a free instance. */
const PENDING_MS = 60_000;
const WORKER_ENTRY = new URL("./worker.js", import.meta.url);

interface Site {
  name: string;
  fn: HostedAzureFunction;
  key: string;
  masterKey: string;
  pool: InstancePool;
  functions?: RegisteredFunction[];
  dispatchers: Dispatcher[];
}

const hex = () => randomBytes(16).toString("hex");
/** Route parameters for the instance, in a header: base64 JSON, since a decoded path may hold any character. */
const paramsHeader = (params: Record<string, string>) => Buffer.from(JSON.stringify(params)).toString("base64");
/** A binding expression's value: `%NAME%` from the app's settings. */
const resolved = (value: string, env: Record<string, string>) => value.replace(/%([^%]+)%/g, (_, name) => env[name] ?? "");

export async function startFunctionHost(options: AzureFunctionHostOptions): Promise<AzureFunctionHost> {
  const sites = new Map<string, Site>();
  const requests = newCounts();
  let url = "";
  let closing = false;

  // Read as each instance starts: a caller may add to `options.env` once the host listens (its own URL).
  const envOf = (name: string, fn: HostedAzureFunction): Record<string, string> => ({
    ...(process.env as Record<string, string>),
    ...options.env,
    ...fn.env,
    WEBSITE_SITE_NAME: name,
    FUNCTIONS_WORKER_RUNTIME: "node",
    FAASADE_AZURE_MODULE: fn.module,
    ...(options.platform ? { FAASADE_AZURE_PLATFORM: options.platform } : {}),
  });
  for (const [name, fn] of Object.entries(options.sites)) {
    const heap = fn.memoryMb === undefined ? [] : [`--max-old-space-size=${fn.memoryMb}`];
    const site: Site = { name, fn, key: fn.key ?? hex(), masterKey: hex(), dispatchers: [], pool: undefined as never };
    site.pool = new InstancePool({
      entry: WORKER_ENTRY,
      env: () => envOf(name, fn),
      execArgv: [...(options.execArgv ?? []), ...heap],
      logs: options.logs,
      maxInstances: fn.maxInstances ?? 10,
      min: fn.alwaysReady ?? 0,
      onSpawn: (i) =>
        void i.hello.then(
          (m) => indexed(site, m.functions as RegisteredFunction[]),
          () => {},
        ),
    });
    sites.set(name, site);
  }

  /** The first instance to start tells the site's functions: its queue triggers are dispatched from then on. */
  const indexed = (site: Site, functions: RegisteredFunction[]) => {
    if (site.functions !== undefined || closing) return;
    site.functions = functions;
    const env = envOf(site.name, site.fn);
    for (const f of functions.filter((g) => g.trigger.type === "queueTrigger")) {
      const queueName = resolved(String(f.trigger.queueName ?? ""), env);
      const setting = String(f.trigger.connection ?? "AzureWebJobsStorage");
      let service: QueueServiceClient;
      try {
        service = QueueServiceClient.fromConnectionString(options.hostConnection ?? env[setting] ?? "");
      } catch (err) {
        // As the host, which reports a trigger it cannot listen with and runs the rest.
        console.error(`faasade: ${site.name}/${f.name}: app setting ${setting} holds no storage connection string:`, err);
        continue;
      }
      site.dispatchers.push(
        dispatchQueue({
          queue: service.getQueueClient(queueName),
          poison: service.getQueueClient(`${queueName}-poison`),
          settings: site.fn.queues,
          counts: requests,
          run: (text, facts) => runMessage(site, f.name, text, facts),
        }),
      );
    }
  };

  /** One message on an instance: true when its function returned; a crash fails it and ends the instance. */
  const runMessage = async (site: Site, fn: string, body: string, facts: QueueFacts): Promise<boolean> => {
    const i = await site.pool.acquire(slotsPerInstance(site.fn.queues), PENDING_MS);
    if (i === undefined) return false;
    try {
      const port = await i.port;
      return await new Promise<boolean>((resolve) => {
        const up = request({
          host: "127.0.0.1",
          port,
          method: "POST",
          path: `/.host/queue/${encodeURIComponent(fn)}`,
          headers: { "content-type": "text/plain; charset=utf-8", "x-faasade-message": JSON.stringify(facts) },
          agent: i.agent,
        });
        up.on("error", () => {
          i.kill();
          resolve(false);
        });
        up.on("response", (answer) => {
          answer.resume();
          answer.on("end", () => resolve(answer.statusCode === 200));
          answer.on("error", () => resolve(false));
        });
        up.end(body);
      });
    } catch {
      return false;
    } finally {
      site.pool.release(i);
    }
  };

  /** The instance's functions, starting one when none has told them yet. */
  const functionsOf = async (site: Site, i: PooledInstance) =>
    site.functions ?? ((await i.hello).functions as RegisteredFunction[]);

  const authorized = (site: Site, level: unknown, req: IncomingMessage, query: URLSearchParams) => {
    if (level === "anonymous") return true;
    const given = req.headers["x-functions-key"] ?? query.get("code") ?? undefined;
    if (given === site.masterKey) return true;
    return level !== "admin" && given === site.key;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = new URL(req.url ?? "/", "http://127.0.0.1");
    const [, first = "", ...rest] = target.pathname.split("/");
    const site = sites.get(decodeURIComponent(first));
    if (site === undefined) return text(res, 404, "no such function app on this host");
    if (Number(req.headers["content-length"] ?? 0) > REQUEST_LIMIT) return text(res, 413, "Request Entity Too Large");
    const body = await readAll(req);
    if (body.length > REQUEST_LIMIT) return text(res, 413, "Request Entity Too Large");
    const slots = site.fn.httpConcurrency ?? 16;
    // As the host, which checks the route and key before it invokes: an instance is taken first only
    // while no instance has told the site's functions yet.
    let i: PooledInstance | undefined;
    let functions = site.functions;
    if (functions === undefined) {
      i = await site.pool.acquire(slots, PENDING_MS);
      if (i === undefined) return text(res, 429, "no instance could take the request");
      try {
        functions = await functionsOf(site, i);
      } catch (err) {
        site.pool.release(i);
        return text(res, 500, `the instance crashed or exited while starting: ${(err as Error).message}`);
      }
    }
    const found = route(site, functions, req.method ?? "GET", `/${rest.join("/")}`);
    const status = found === undefined ? 404 : authorized(site, found.fn.trigger.authLevel, req, target.searchParams) ? 0 : 401;
    if (status !== 0 || found === undefined) {
      if (i !== undefined) site.pool.release(i);
      return text(res, status || 404, "");
    }
    i ??= await site.pool.acquire(slots, PENDING_MS);
    if (i === undefined) return text(res, 429, "no instance could take the request");
    const seen = `http://${req.headers.host ?? "127.0.0.1"}/${rest.join("/")}${target.search}`;
    const headers = { ...req.headers, "x-faasade-url": seen, "x-faasade-params": paramsHeader(found.params) };
    const path = `/.host/http/${encodeURIComponent(found.fn.name)}`;
    await forwardTo(site.pool, i, { method: req.method ?? "GET", path, headers, body }, res, {
      timeoutMs: options.httpCapMs ?? HTTP_CAP_MS,
      idle: true,
      timedOut: { status: 504, text: "The request timed out: no answer within the HTTP limit of the front end" },
      slots,
      pendingMs: PENDING_MS,
    });
  };

  /** The HTTP function whose route and methods match, most specific route first. */
  const route = (site: Site, functions: RegisteredFunction[], method: string, path: string) => {
    const prefix = (site.fn.routePrefix ?? "").replace(/^\/+|\/+$/g, "");
    let tail = path;
    if (prefix !== "") {
      if (!`${path.toLowerCase()}/`.startsWith(`/${prefix.toLowerCase()}/`)) return undefined;
      tail = path.slice(prefix.length + 1);
    }
    const http = functions
      .filter((f) => f.trigger.type === "httpTrigger")
      .map((f) => ({ fn: f, template: String(f.trigger.route ?? f.name) }))
      .sort((a, b) => bySpecificity(a.template, b.template));
    for (const { fn, template } of http) {
      const methods = ((fn.trigger.methods as string[] | undefined) ?? ["GET", "POST"]).map((m) => m.toUpperCase());
      if (!methods.includes(method.toUpperCase())) continue;
      const params = matchRoute(template, tail);
      if (params !== undefined) return { fn, params };
    }
    return undefined;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, (err as Error).message);
      else res.destroy();
    });
  });
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // As the host indexes an app's functions at its start: one instance per site, reaped when idle.
  for (const site of sites.values()) {
    site.pool.keepMin();
    if (site.pool.live().length === 0) site.pool.spawn();
  }
  await Promise.all([...sites.values()].map((s) => Promise.any(s.pool.live().map((i) => i.hello)).catch(() => {})));
  const reaper = setInterval(() => {
    for (const s of sites.values()) s.pool.reap(options.idleMs ?? 60_000);
  }, 1000);
  reaper.unref();
  const killAll = () => {
    for (const s of sites.values()) s.pool.killAll();
  };
  process.once("exit", killAll);
  const siteOf = (name: string) => {
    const s = sites.get(name);
    if (s === undefined) throw new Error(`no function app ${JSON.stringify(name)} on this host`);
    return s;
  };
  return {
    url,
    urlOf: (name) => `${url}/${encodeURIComponent(siteOf(name).name)}`,
    keyOf: (name) => siteOf(name).key,
    masterKeyOf: (name) => siteOf(name).masterKey,
    setAlwaysReady: (name, n) => siteOf(name).pool.setMin(n),
    instances: (name) => siteOf(name).pool.live().length,
    pids: (name) => siteOf(name).pool.pids(),
    functions: (name) => siteOf(name).functions,
    requests,
    async close() {
      closing = true;
      clearInterval(reaper);
      process.off("exit", killAll);
      const stopping = [...sites.values()].flatMap((s) => s.dispatchers.map((d) => d.stop()));
      const exits = [...sites.values()].map((s) => s.pool.close());
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...exits, ...stopping]);
    },
  };
}
