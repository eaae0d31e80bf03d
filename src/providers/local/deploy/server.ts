/**
 * The local deployment server: hosts deployed apps in container pools of its own, keeps spawned
 * calls and their outcomes in SQLite, and serves the control API on 127.0.0.1 behind a token.
 * Spawned inputs are driven here, retries included, so that nobody needs to wait for them; inputs
 * of `remote` and `map` are run attempt by attempt for the caller, which applies its retries.
 */
import { timingSafeEqual } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { Attempts, newPending } from "../../../core/attempts.js";
import { applyGraphEvents, callGraph, hasCall, observeGraphEvents, recordCall } from "../../../core/call-graph.js";
import { checkAutoscaler } from "../../../core/options.js";
import type { AutoscalerSettings, FunctionSpec, Input, Outcome, OutcomeSink, Provider } from "../../../core/provider.js";
import { type LocalProvider, local } from "../index.js";
import { type HomePaths, clearServerInfo, ensureHome, ensureToken, lastPort, rememberPort, writeServerInfo } from "./home.js";
import { type AppManifest, specOf } from "./manifest.js";
import { type CallRow, Store } from "./store.js";
import { CBOR, frame, pack, readBody, unpack } from "./wire.js";
import { handleWeb } from "./web.js";

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
/** Control API bodies (a batch of a map's inputs, a manifest) are bounded separately from web ones. */
const CONTROL_BODY_BYTES = 256 * 1024 * 1024;
const key = (env: string, app: string, fn?: string) => (fn === undefined ? `${env}/${app}` : `${env}/${app}/${fn}`);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { paths } = options;
  ensureHome(paths);
  const token = Buffer.from(ensureToken(paths));
  const retentionMs = options.retentionMs ?? (Number(process.env.FAASADE_RESULT_RETENTION_MS) || SEVEN_DAYS);
  const maxBodyBytes = options.maxBodyBytes ?? (Number(process.env.FAASADE_MAX_BODY_BYTES) || 16 * 1024 * 1024);
  const store = await Store.open(paths.db);
  const provider: LocalProvider = local();
  const apps = new Map<string, AppManifest>();
  const specs = new Map<string, FunctionSpec>();
  /** Spawned calls running here: their attempts, to cancel them. */
  const live = new Map<string, Attempts>();
  let stopping = false;
  /** Inputs of `remote`/`map` streams by id: what ends their wait when they are aborted. */
  const streaming = new Map<string, () => void>();
  /** Callers waiting for a call to change (an outcome, a chunk). */
  const waiters = new Map<string, Set<() => void>>();
  const notify = (callId: string) => {
    const set = waiters.get(callId);
    waiters.delete(callId);
    for (const w of set ?? []) w();
  };
  const changed = (callId: string, waitMs: number) =>
    new Promise<void>((resolve) => {
      if (waitMs <= 0) return resolve();
      const timer = setTimeout(done, waitMs);
      function done() {
        clearTimeout(timer);
        waiters.get(callId)?.delete(done);
        resolve();
      }
      let set = waiters.get(callId);
      if (set === undefined) waiters.set(callId, (set = new Set()));
      set.add(done);
    });

  // Spawned inputs run against the function's current code: a retry after a redeploy runs the new one.
  const current: Provider = {
    name: "local",
    submit: (fn, inputs, sink) => {
      const spec = specs.get(key(fn.environment, fn.app, fn.name)) ?? fn;
      for (const input of inputs) if (input.attempt > 1) store.setAttempt(input.callId, input.attempt);
      provider.submit(spec, inputs, sink);
    },
    abort: (fn, ids, o) => provider.abort(specs.get(key(fn.environment, fn.app, fn.name)) ?? fn, ids, o),
    close: async () => {},
    canTerminateContainers: true,
  };

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

  const runSpawn = (row: CallRow) => {
    const spec = specs.get(key(row.env, row.app, row.fn));
    const finish = (o: Outcome) => {
      // A server stopping ends its pools, which settles what they held: those inputs stay stored
      // as unfinished and run again at the next start.
      if (stopping) return;
      live.delete(row.call_id);
      store.finishCall(row.call_id, o, retentionMs);
      notify(row.call_id);
    };
    if (spec === undefined) {
      finish({
        inputId: row.input_id,
        attempt: row.attempt,
        status: "INIT_FAILURE",
        message: `function ${row.fn} is no longer deployed`,
      });
      return;
    }
    let chunks = store.chunkCount(row.call_id);
    const attempts = new Attempts(
      current,
      spec,
      {
        settle: (_, o) => finish(o),
        chunk: (_, v) => {
          store.addChunk(row.call_id, chunks++, v);
          notify(row.call_id);
        },
      },
      true,
    );
    live.set(row.call_id, attempts);
    recordCall(row.call_id, row.parent ?? undefined, spec);
    const input = newPending(row.input_id, row.call_id, row.args, 0, row.parent ?? undefined);
    input.attempt = row.attempt; // after a restart: the same attempt again, none used up
    attempts.submit([input]);
  };

  let port = 0;
  const specFor = (env: string, app: string, fn: string): FunctionSpec => {
    if (!apps.has(key(env, app)))
      throw new HttpError(404, `app ${JSON.stringify(app)} is not deployed (environment ${JSON.stringify(env)})`);
    const spec = specs.get(key(env, app, fn));
    if (spec === undefined) throw new HttpError(404, `app ${JSON.stringify(app)} has no function ${JSON.stringify(fn)}`);
    return spec;
  };

  const route = async (req: IncomingMessage, res: ServerResponse, parts: string[], query: URLSearchParams) => {
    const method = req.method ?? "GET";
    const body = async <T>() => unpack<T>(await readBody(req, CONTROL_BODY_BYTES));
    const send = (value: unknown, status = 200) => {
      res.writeHead(status, { "content-type": CBOR });
      res.end(pack(value));
    };
    const [area, a, b, c, d] = parts;
    if (area === "health") return send({ pid: process.pid, apps: apps.size });
    if (area === "apps" && a === undefined && method === "GET") return send(store.apps());
    if (area === "apps" && a === undefined && method === "POST") {
      const manifest = await body<AppManifest>();
      store.putApp(manifest);
      await deploy(manifest);
      return send({ functions: manifest.functions.map((f) => ({ name: f.name, web: f.options.web !== undefined })) });
    }
    if (area === "apps" && a !== undefined && b !== undefined && method === "DELETE") {
      const manifest = apps.get(key(a, b));
      if (manifest === undefined)
        throw new HttpError(404, `app ${JSON.stringify(b)} is not deployed (environment ${JSON.stringify(a)})`);
      for (const [callId, attempts] of live) {
        const row = store.call(callId);
        if (row?.app === b && row.env === a) {
          attempts.abortAll({ terminateContainers: true });
          live.delete(callId);
        }
      }
      for (const fn of manifest.functions) {
        const spec = specs.get(key(a, b, fn.name));
        if (spec !== undefined) await provider.retire(spec);
        specs.delete(key(a, b, fn.name));
      }
      apps.delete(key(a, b));
      store.deleteApp(b, a);
      send({ destroyed: b });
      if (apps.size === 0 && options.exitWhenEmpty) setImmediate(() => void close().then(() => process.exit(0)));
      return;
    }
    if (area === "fn" && a !== undefined && b !== undefined && c !== undefined) {
      const spec = specFor(a, b, c);
      const fnManifest = apps.get(key(a, b))?.functions.find((f) => f.name === c);
      if (d === undefined && method === "GET") return send({ app: apps.get(key(a, b)), fn: fnManifest, port });
      if (d === "run" && method === "POST") return runInputs(spec, await body<{ inputs: WireInput[] }>(), req, res);
      if (d === "abort" && method === "POST") {
        const { inputIds, terminateContainers } = await body<{ inputIds: string[]; terminateContainers?: boolean }>();
        provider.abort(spec, inputIds, { terminateContainers: terminateContainers === true });
        // No outcome follows for them: the streams waiting on them end without them.
        for (const id of inputIds) streaming.get(id)?.();
        return send({ ok: true });
      }
      if (d === "spawn" && method === "POST") {
        const { input } = await body<{ input: WireInput }>();
        if (store.call(input.callId) === undefined) {
          store.insertCall({
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
          // Stored: acknowledged. It runs after the answer is on its way.
          setImmediate(() => runSpawn(store.call(input.callId) as CallRow));
        }
        return send({ ok: true });
      }
      if (d === "stats" && method === "GET") return send(await provider.getCurrentStats(spec));
      if (d === "autoscaler" && method === "GET") return send(store.settings(b, a, c) ?? pickSettings(spec));
      if (d === "autoscaler" && method === "POST") {
        const settings = checkAutoscaler(`function ${JSON.stringify(c)}`, await body<AutoscalerSettings>());
        const effective = await provider.updateAutoscaler(spec, settings);
        store.putSettings(b, a, c, settings);
        return send(effective);
      }
    }
    if (area === "calls" && a !== undefined) {
      const row = store.call(a);
      if (row === undefined && !(b === "graph" && hasCall(a))) throw new HttpError(404, `no call ${a} in this deployment`);
      if (b === "graph" && method === "GET") return send(callGraph(a));
      if (row === undefined) throw new HttpError(404, `no call ${a} in this deployment`);
      if (b === "cancel" && method === "POST") {
        const { terminateContainers } = await body<{ terminateContainers?: boolean }>();
        const attempts = live.get(a);
        if (attempts !== undefined) attempts.abortAll({ terminateContainers: terminateContainers === true, settle: true });
        else if (row.status === "PENDING") {
          store.finishCall(a, { inputId: row.input_id, attempt: row.attempt, status: "TERMINATED" }, retentionMs);
          notify(a);
        }
        return send({ ok: true });
      }
      const waitMs = Math.min(Number(query.get("waitMs") ?? 0) || 0, 30_000);
      if (b === undefined && method === "GET") {
        let now = store.call(a) as CallRow;
        if (now.status === "PENDING" && waitMs > 0) {
          await changed(a, waitMs);
          now = store.call(a) as CallRow;
        }
        return send(callState(now));
      }
      if (b === "chunks" && method === "GET") {
        const from = Number(query.get("from") ?? 0) || 0;
        let chunks = store.chunks(a, from);
        let now = store.call(a) as CallRow;
        if (chunks.length === 0 && now.status === "PENDING" && waitMs > 0) {
          await changed(a, waitMs);
          chunks = store.chunks(a, from);
          now = store.call(a) as CallRow;
        }
        return send({ chunks, ...callState(now) });
      }
    }
    throw new HttpError(404, `no such route: ${method} /v1/${parts.join("/")}`);
  };

  /** Runs the inputs of a `remote` or `map` once each; outcomes stream back as they come. */
  const runInputs = (spec: FunctionSpec, { inputs }: { inputs: WireInput[] }, req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/x-faasade-frames" });
    let left = inputs.length;
    const index = new Map<Input, number>();
    const items: Input[] = inputs.map((w, i) => {
      const input: Input = {
        inputId: w.inputId,
        callId: w.callId,
        attempt: w.attempt,
        args: w.args,
        parentInputId: w.parentInputId,
      };
      index.set(input, i);
      return input;
    });
    const settled = (input: Input) => {
      index.delete(input);
      streaming.delete(input.inputId);
      if (--left === 0) res.end();
    };
    for (const input of items) streaming.set(input.inputId, () => index.has(input) && settled(input));
    const sink: OutcomeSink = {
      outcome(input, outcome) {
        if (!index.has(input)) return;
        res.write(frame({ t: "o", i: index.get(input), o: outcome }));
        settled(input);
      },
      chunk(input, attempt, value) {
        const i = index.get(input);
        if (i !== undefined) res.write(frame({ t: "c", i, a: attempt, v: value }));
      },
    };
    // A caller that goes away takes its inputs with it.
    res.on("close", () => {
      if (left === 0) return;
      const ids = [...index.keys()].map((input) => input.inputId);
      for (const id of ids) streaming.delete(id);
      provider.abort(spec, ids);
    });
    req.resume();
    provider.submit(spec, items, sink);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] === "web") {
      void handleWeb(req, res, parts.slice(1), {
        specFor: (env, app, fn) => specs.get(key(env, app, fn)),
        provider,
        maxBodyBytes,
      });
      return;
    }
    const auth = Buffer.from(req.headers.authorization?.replace(/^Bearer /, "") ?? "");
    if (auth.length !== token.length || !timingSafeEqual(auth, token)) {
      res.writeHead(401, { "content-type": "text/plain" }).end("a valid token is required (FAASADE_HOME/token)");
      return;
    }
    if (parts[0] !== "v1") {
      res.writeHead(404).end();
      return;
    }
    route(req, res, parts.slice(1), url.searchParams).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : ((err as { status?: number }).status ?? 500);
      if (!res.headersSent) res.writeHead(status, { "content-type": CBOR });
      res.end(pack({ error: (err as Error)?.message ?? String(err), name: (err as Error)?.name }));
    });
  });
  server.keepAliveTimeout = 60_000;

  // State first, then the door: apps, settings, graph records, unfinished spawns.
  for (const manifest of store.apps()) await deploy(manifest);
  applyGraphEvents(store.graphEvents());
  observeGraphEvents((events) => store.putGraphEvents(events));
  for (const row of store.pendingCalls()) runSpawn(row);
  const sweep = setInterval(() => store.expire(), 60_000);
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
      stopping = true;
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

interface WireInput {
  inputId: string;
  callId: string;
  attempt: number;
  args: Uint8Array;
  parentInputId?: string;
}

function pickSettings(spec: FunctionSpec): AutoscalerSettings {
  const { minContainers, maxContainers, bufferContainers, scaledownWindowMs } = spec.options;
  return { minContainers, maxContainers, bufferContainers, scaledownWindowMs };
}

/** What `get` sees of a stored call. */
function callState(row: CallRow): { state: "pending" | "done" | "expired"; fn: string; isGenerator: boolean; outcome?: Outcome } {
  const base = { fn: row.fn, isGenerator: row.is_gen === 1 };
  if (row.status === "EXPIRED" || (row.expires_at !== null && row.expires_at <= Date.now())) return { state: "expired", ...base };
  if (row.status === "PENDING") return { state: "pending", ...base };
  const outcome: Outcome = {
    inputId: row.input_id,
    attempt: row.attempt,
    status: row.status as Outcome["status"],
    value: row.value ?? undefined,
    error: row.error ?? undefined,
    userError: row.user_error === null ? undefined : row.user_error === 1,
    message: row.message ?? undefined,
    taskId: row.task_id ?? undefined,
  };
  return { state: "done", ...base, outcome };
}
