/**
 * The local deployment server: hosts deployed apps in container pools of its own, keeps spawned
 * calls and their outcomes in SQLite, and serves the control API on 127.0.0.1 behind a token.
 * Spawned calls are driven here (spawns.ts); inputs of `remote` and `map` run attempt by attempt
 * for their caller (streams.ts). This file routes the control API and deploys apps; paths under
 * /dashboard go to the dashboard (src/dashboard, with its own auth; dashboard-source.ts).
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { callGraph, hasCall, limitCallGraph, observeGraphEvents, restoreGraphEvents } from "../../../core/call-graph.js";
import { checkAutoscaler } from "../../../core/options.js";
import type { AutoscalerSettings, FunctionSpec } from "../../../core/provider.js";
import { type LocalProvider, local } from "../index.js";
import { FaasadeError, InvalidError, NotFoundError } from "../../../core/errors.js";
import { type HomePaths, clearServerInfo, ensureHome, ensureToken, lastPort, rememberPort, writeServerInfo } from "./home.js";
import { type AppManifest, specOf } from "../../../core/manifest.js";
import { Spawns, callState } from "./spawns.js";
import { Store } from "./store.js";
import { checkWireInput, checkWireInputs, Streams } from "./streams.js";
import { checkAbort, checkCancel, checkManifest, checkObject } from "./requests.js";
import { tokenGate } from "./token.js";
import { CBOR, HttpError, pack, pathSegments, readBody, unpackRequest } from "./wire.js";
import { handleWeb } from "./web.js";
import { dashboardHandler } from "../../../dashboard/handler.js";
import { localDashboardSource } from "./dashboard-source.js";

export interface ServerOptions {
  paths: HomePaths;
  /** @default the port used last, else FAASADE_PORT, else any free port */
  port?: number;
  /** How long results are kept after they finish. @default FAASADE_RESULT_RETENTION_MS, else 7 days */
  retentionMs?: number;
  /** Largest request body of a web endpoint. @default FAASADE_MAX_BODY_BYTES, else 16 MiB */
  maxBodyBytes?: number;
  /** Exit once the last app is destroyed (a background server). @default false */
  exitWhenEmpty?: boolean;
}

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

const SEVEN_DAYS = 7 * 24 * 3600 * 1000;
/** Call trees the server keeps in memory (about 1 KB each); every record is in the database. */
const GRAPH_CALLS_IN_MEMORY = Number(process.env.FAASADE_GRAPH_CALLS_IN_MEMORY) || 2_000;
/** Bodies that carry inputs (a batch of a map's inputs, a spawn, an abort's ids) are bounded separately from web ones. */
const INPUT_BODY_BYTES = 256 * 1024 * 1024;
/** Every other control API body (a manifest, settings, a cancel) is small. */
const CONTROL_BODY_BYTES = 1024 * 1024;
const key = (env: string, app: string, fn?: string) => (fn === undefined ? `${env}/${app}` : `${env}/${app}/${fn}`);

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { paths } = options;
  ensureHome(paths);
  const gate = tokenGate(paths, ensureToken(paths));
  const retentionMs = options.retentionMs ?? (Number(process.env.FAASADE_RESULT_RETENTION_MS) || SEVEN_DAYS);
  const maxBodyBytes = options.maxBodyBytes ?? (Number(process.env.FAASADE_MAX_BODY_BYTES) || 16 * 1024 * 1024);
  const store = await Store.open(paths.db);
  const provider: LocalProvider = local();
  const apps = new Map<string, AppManifest>();
  const specs = new Map<string, FunctionSpec>();
  const spawns = new Spawns(store, provider, (env, app, fn) => specs.get(key(env, app, fn)), retentionMs);
  const streams = new Streams(provider);

  const deploy = async (manifest: AppManifest) => {
    apps.set(key(manifest.environment, manifest.app), manifest);
    for (const fn of manifest.functions) {
      const spec = specOf(manifest, fn);
      specs.set(key(manifest.environment, manifest.app, fn.name), spec);
      provider.redeploy(spec); // a running pool hands its queue to the new code now
      const settings = store.settings(manifest.app, manifest.environment, fn.name);
      if (settings !== undefined || spec.options.minContainers > 0) {
        await provider.updateAutoscaler(spec, settings ?? pickSettings(spec));
      }
    }
  };

  const destroy = async (env: string, app: string) => {
    const manifest = apps.get(key(env, app));
    if (manifest === undefined)
      throw new HttpError(404, `app ${JSON.stringify(app)} is not deployed (environment ${JSON.stringify(env)})`);
    spawns.abortApp(app, env);
    for (const fn of manifest.functions) {
      const spec = specs.get(key(env, app, fn.name));
      if (spec !== undefined) await provider.retire(spec);
      specs.delete(key(env, app, fn.name));
    }
    apps.delete(key(env, app));
    store.deleteApp(app, env);
  };

  let port = 0;
  const specFor = (env: string, app: string, fn: string): FunctionSpec => {
    if (!apps.has(key(env, app)))
      throw new HttpError(404, `app ${JSON.stringify(app)} is not deployed (environment ${JSON.stringify(env)})`);
    const spec = specs.get(key(env, app, fn));
    if (spec === undefined) throw new HttpError(404, `app ${JSON.stringify(app)} has no function ${JSON.stringify(fn)}`);
    return spec;
  };

  const settingsOf = (spec: FunctionSpec) => store.settings(spec.app, spec.environment, spec.name) ?? pickSettings(spec);
  /** Checks, applies and stores a function's autoscaler settings; what is in force after. */
  const applySettings = async (spec: FunctionSpec, given: { [K in keyof AutoscalerSettings]: unknown }) => {
    const settings = checkAutoscaler(`function ${JSON.stringify(spec.name)}`, given);
    const effective = await provider.updateAutoscaler(spec, settings);
    store.putSettings(spec.app, spec.environment, spec.name, settings);
    return effective;
  };
  const dashboard = dashboardHandler(
    localDashboardSource({
      store,
      spawns,
      provider,
      specOf: (env, app, fn) => specs.get(key(env, app, fn)),
      settingsOf,
      applySettings: async (spec, settings) => void (await applySettings(spec, settings)),
    }),
    (token) => gate.accepts(`Bearer ${token}`),
  );

  const route = async (req: IncomingMessage, res: ServerResponse, parts: string[], query: URLSearchParams) => {
    const method = req.method ?? "GET";
    const body = async (limit = CONTROL_BODY_BYTES): Promise<unknown> => unpackRequest(await readBody(req, limit));
    const send = (value: unknown, status = 200) => {
      res.writeHead(status, { "content-type": CBOR });
      res.end(pack(value));
    };
    const [area, a, b, c, d] = parts;
    if (area === "health") return send({ pid: process.pid, apps: apps.size });
    if (area === "apps" && a === undefined && method === "GET") return send(store.apps());
    if (area === "apps" && a === undefined && method === "POST") {
      const manifest = checkManifest(await body());
      store.putApp(manifest);
      await deploy(manifest);
      return send({ functions: manifest.functions.map((f) => ({ name: f.name, web: f.options.web !== undefined })) });
    }
    if (area === "apps" && a !== undefined && b !== undefined && method === "DELETE") {
      await destroy(a, b);
      send({ destroyed: b });
      if (apps.size === 0 && options.exitWhenEmpty) setImmediate(() => void close().then(() => process.exit(0)));
      return;
    }
    if (area === "fn" && a !== undefined && b !== undefined && c !== undefined) {
      const spec = specFor(a, b, c);
      const fnManifest = apps.get(key(a, b))?.functions.find((f) => f.name === c);
      if (d === undefined && method === "GET") return send({ app: apps.get(key(a, b)), fn: fnManifest, port });
      if (d === "run" && method === "POST") {
        const inputs = checkWireInputs(checkObject(await body(INPUT_BODY_BYTES), "run").inputs, "inputs");
        return streams.run(spec, inputs, req, res);
      }
      if (d === "abort" && method === "POST") {
        const { inputIds, terminateContainers } = checkAbort(await body(INPUT_BODY_BYTES));
        streams.abort(spec, inputIds, terminateContainers);
        return send({ ok: true });
      }
      if (d === "spawn" && method === "POST") {
        const input = checkWireInput(checkObject(await body(INPUT_BODY_BYTES), "spawn").input, "input");
        spawns.accept({
          call_id: input.callId,
          app: b,
          env: a,
          fn: c,
          is_gen: spec.isGenerator ? 1 : 0,
          input_id: input.inputId,
          attempt: 1,
          args: input.args,
          parent: input.parentInputId ?? null,
        });
        return send({ ok: true });
      }
      if (d === "stats" && method === "GET") return send(await provider.getCurrentStats(spec));
      if (d === "autoscaler" && method === "GET") return send(settingsOf(spec));
      if (d === "autoscaler" && method === "POST") {
        const given = checkObject(await body(), "autoscaler") as { [K in keyof AutoscalerSettings]: unknown };
        return send(await applySettings(spec, given));
      }
    }
    if (area === "calls" && a !== undefined) {
      const row = store.call(a);
      if (b === "graph" && method === "GET") {
        // Older trees are no longer in memory: read back from the database.
        if (!hasCall(a)) restoreGraphEvents(store.graphEventsOf(a));
        if (row !== undefined || hasCall(a)) return send(callGraph(a));
      }
      if (row === undefined) throw new HttpError(404, `no call ${a} in this deployment`);
      if (b === "cancel" && method === "POST") {
        const { terminateContainers } = checkCancel(await body());
        spawns.cancel(row, terminateContainers);
        return send({ ok: true });
      }
      const waitMs = Math.min(Number(query.get("waitMs") ?? 0) || 0, 30_000);
      if (b === undefined && method === "GET") {
        return send(callState(await spawns.stateAfter(a, waitMs, (r) => r.status === "PENDING")));
      }
      if (b === "chunks" && method === "GET") {
        const from = Number(query.get("from") ?? 0) || 0;
        const now = await spawns.stateAfter(a, waitMs, (r) => r.status === "PENDING" && store.chunks(a, from).length === 0);
        return send({ chunks: store.chunks(a, from), ...callState(now) });
      }
    }
    throw new HttpError(404, `no such route: ${method} /v1/${parts.join("/")}`);
  };

  const webContext = {
    specFor: (env: string, app: string, fn: string) => specs.get(key(env, app, fn)),
    provider,
    maxBodyBytes,
    accepts: (authorization: string | undefined) => gate.accepts(authorization),
  };
  /** One request, whatever it holds: every failure is an answer to it alone, never the process's end. */
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    req.on("error", () => {}); // a client that goes away mid-body: its reader rejects on its own
    const url = requestUrl(req);
    const area = url.pathname.split("/").find(Boolean);
    if (area === "web") return handleWeb(req, res, url.pathname, webContext);
    if (area === "dashboard") return dashboard(req, res, url); // its own auth: a cookie, for a browser
    if (area === "calls" && req.method === "GET") {
      // API.md's /calls/<id>: the dashboard's call page, whose auth (a cookie on /dashboard) decides there.
      res.writeHead(303, { location: `/dashboard${url.pathname}${url.search}`, "cache-control": "no-store" }).end();
      return;
    }
    if (!gate.accepts(req.headers.authorization)) {
      res.writeHead(401, { "content-type": "text/plain" }).end("a valid token is required (FAASADE_HOME/token)");
      return;
    }
    const parts = pathSegments(url.pathname);
    if (parts[0] !== "v1") throw new HttpError(404, `no such route: ${req.method} ${url.pathname.slice(0, 200)}`);
    await route(req, res, parts.slice(1), url.searchParams);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => answerFailure(res, err));
  });
  server.keepAliveTimeout = 60_000;

  // State first, then the door: apps, settings, graph records, unfinished spawns.
  for (const manifest of store.apps()) await deploy(manifest);
  limitCallGraph(GRAPH_CALLS_IN_MEMORY);
  restoreGraphEvents(store.graphEvents());
  observeGraphEvents((events) => store.putGraphEvents(events));
  for (const row of store.pendingCalls()) spawns.run(row);
  const sweep = setInterval(() => store.expire(), Math.min(60_000, Math.max(1_000, retentionMs / 4))); // a short retention is pruned as often
  sweep.unref();
  store.expire();

  const wanted = options.port ?? (Number(process.env.FAASADE_PORT) || lastPort(paths) || 0);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(wanted, "127.0.0.1", () => resolve());
  });
  port = (server.address() as { port: number }).port;
  rememberPort(paths, port);
  writeServerInfo(paths, { pid: process.pid, port });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      spawns.stop();
      clearInterval(sweep);
      observeGraphEvents(undefined);
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await provider.close();
      store.close();
      clearServerInfo(paths, process.pid);
    })();
    return closing;
  };
  return { port, close };
}

function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? "/", "http://127.0.0.1");
  } catch {
    throw new HttpError(400, `malformed request target ${JSON.stringify((req.url ?? "").slice(0, 200))}`);
  }
}

/** A failed request's answer: its status (an unexpected error is a 500) and a CBOR { error, name }. */
function answerFailure(res: ServerResponse, err: unknown): void {
  const status =
    err instanceof HttpError ? err.status : err instanceof InvalidError ? 400 : err instanceof NotFoundError ? 404 : 500;
  if (status === 500) console.error("faasade: a request failed:", err);
  if (res.headersSent) {
    res.destroy(); // a stream already under way: its client sees it cut off
    return;
  }
  const name = err instanceof FaasadeError || err instanceof HttpError ? (err as Error).name : "Error";
  res.writeHead(status, { "content-type": CBOR });
  res.end(pack({ error: (err as Error)?.message ?? String(err), name }));
}

function pickSettings(spec: FunctionSpec): AutoscalerSettings {
  const { minContainers, maxContainers, bufferContainers, scaledownWindowMs } = spec.options;
  return { minContainers, maxContainers, bufferContainers, scaledownWindowMs };
}
