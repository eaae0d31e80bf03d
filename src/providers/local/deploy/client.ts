/**
 * The client of a local deployment: a provider that reaches the server recorded under
 * `FAASADE_HOME` over loopback HTTP with the token kept there. `Function.fromName`,
 * `lookup` and `FunctionCall.fromId` use it when the app is not defined in the calling process.
 */
import type { Agent, ClientRequest } from "node:http";
import { createRequire } from "node:module";
import type { InputInfo } from "../../../core/call-graph.js";
import { ExecutionError, FaasadeError, InternalFailure, InvalidError, NotFoundError } from "../../../core/errors.js";
import { TransportError, rideThrough } from "../../../core/transport.js";
import type {
  AbortOptions,
  AutoscalerSettings,
  CallState,
  CallStore,
  EffectiveAutoscaler,
  FunctionSpec,
  FunctionStats,
  Input,
  OutcomeSink,
  Provider,
  Deployer,
} from "../../../core/provider.js";
import { type HomePaths, homePaths, readServerInfo, readToken } from "./home.js";
import { localDeployer } from "./deployer.js";
import { type AppManifest, type FunctionManifest, specOf } from "../../../core/manifest.js";
import { CBOR, pack, unpack } from "./wire.js";
import { runOverHttp } from "./client-run.js";

export interface DeploymentOptions {
  /** @default FAASADE_HOME, else ~/.faasade */
  home?: string;
}

export interface DeploymentProvider extends Provider {
  readonly calls: CallStore;
  lookup(app: string, environment: string, name: string): Promise<FunctionSpec>;
  readonly deployer: Deployer;
  /** The server's base URL, or undefined when none runs. */
  url(): string | undefined;
  /** A request to the control API (the CLI's way in), riding through a restart. */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Whether a server answers now: one request, no riding through. */
  answers(): Promise<boolean>;
  /** The answering server's pid and number of apps, or undefined when none answers: one request, no riding through. */
  health(): Promise<{ pid: number; apps: number } | undefined>;
}

/** node:http at the first request: every process that imports the local provider (each container too) loads this module. */
const http = (): typeof import("node:http") => createRequire(import.meta.url)("node:http");

/** Socket errors of a server that is restarting, busy or briefly unreachable. */
const PASSING = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "EAI_AGAIN"]);
/** How long a request may go unanswered beyond the wait it asked for. */
const REQUEST_TIMEOUT_MS = 30_000;

export function deployment(options: DeploymentOptions = {}): DeploymentProvider {
  const paths: HomePaths = homePaths(options.home);
  let agent: Agent | undefined;
  const ports = new Map<string, number>();
  /** Inputs of streams still open, by id: how to stop waiting for one. */
  const open = new Map<string, () => void>();
  const where = () => `the local deployment server (FAASADE_HOME=${paths.home})`;

  /** Once this client has reached the server, its absence is a restart to ride through. */
  let reached = false;
  const target = () => {
    const info = readServerInfo(paths);
    const token = readToken(paths);
    if (info === undefined || token === undefined) {
      if (reached) throw new TransportError(`${where()} is not running (no server.json: restarting?)`);
      throw new NotFoundError(
        `no local deployment is running (FAASADE_HOME=${paths.home}); deploy with \`faasade deploy <file>\``,
      );
    }
    return { port: info.port, token };
  };

  const send = (method: string, path: string, body?: unknown, timeoutMs?: number) => {
    const { port, token } = target();
    const payload = body === undefined ? undefined : pack(body);
    agent ??= new (http().Agent)({ keepAlive: true, maxSockets: 64 });
    const req = http().request({
      agent,
      host: "127.0.0.1",
      port,
      method,
      path,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload ? { "content-type": CBOR, "content-length": payload.byteLength } : {}),
      },
    });
    if (timeoutMs !== undefined) {
      req.setTimeout(timeoutMs, () =>
        req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })),
      );
    }
    req.on("response", () => {
      reached = true;
    });
    return req.end(payload);
  };

  /** A request that did not get through: a transport failure to ride through, or a final one. */
  const failure = (thrown: unknown): FaasadeError => {
    if (thrown instanceof FaasadeError) return thrown;
    const err = thrown as NodeJS.ErrnoException;
    return PASSING.has(err.code ?? "") || err.message === "socket hang up"
      ? new TransportError(`${where()} could not be reached (${err.code ?? err.message})`, { cause: err })
      : new InternalFailure(`request to ${where()} failed: ${err.message}`, { cause: err });
  };

  /** An answer other than 200: 5xx and throttling pass; the rest are the contract's errors. */
  const refusal = (status: number, raw: Buffer): FaasadeError => {
    let message = raw.toString();
    try {
      message = unpack<{ error: string }>(raw).error;
    } catch {
      // plain text
    }
    if (status === 404) return new NotFoundError(message);
    if (status === 400 || status === 413) return new InvalidError(`${where()} refused the request: ${message}`);
    if (status === 401) return new ExecutionError(`${where()} refused the token: ${message}`);
    if (status >= 500 || status === 429) return new TransportError(`${where()} answered ${status}: ${message}`);
    return new InternalFailure(`${where()}: ${status} ${message}`);
  };

  const callOnce = <T>(method: string, path: string, body?: unknown, waitMs = 0): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let req: ClientRequest;
      try {
        req = send(method, path, body, waitMs + REQUEST_TIMEOUT_MS);
      } catch (err) {
        reject(err);
        return;
      }
      req.on("error", (err) => reject(failure(err)));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (err) => reject(failure(err)));
        res.on("end", () => {
          const raw = Buffer.concat(chunks);
          const status = res.statusCode ?? 500;
          if (status === 200) resolve(unpack<T>(raw));
          else reject(refusal(status, raw));
        });
      });
    });

  /** The CLI's way in rides through a restart as every other call does. */
  const call = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    rideThrough(() => callOnce<T>(method, path, body));

  const fnPath = (fn: FunctionSpec, action?: string) =>
    `/v1/fn/${encodeURIComponent(fn.environment)}/${encodeURIComponent(fn.app)}/${encodeURIComponent(fn.name)}${action ? `/${action}` : ""}`;

  const calls: CallStore = {
    canTerminateContainers: true,
    async spawn(fn, input) {
      await callOnce("POST", fnPath(fn, "spawn"), { input: wireInput(input) });
    },
    async state(callId, waitMs) {
      return callOnce<CallState>("GET", `/v1/calls/${encodeURIComponent(callId)}?waitMs=${waitMs}`, undefined, waitMs);
    },
    async chunks(callId, from, waitMs) {
      return callOnce<CallState & { chunks: Uint8Array[] }>(
        "GET",
        `/v1/calls/${encodeURIComponent(callId)}/chunks?from=${from}&waitMs=${waitMs}`,
        undefined,
        waitMs,
      );
    },
    async cancel(callId, options) {
      await callOnce("POST", `/v1/calls/${encodeURIComponent(callId)}/cancel`, {
        terminateContainers: options.terminateContainers === true,
      });
    },
    async callGraph(callId) {
      return callOnce<InputInfo[]>("GET", `/v1/calls/${encodeURIComponent(callId)}/graph`);
    },
  };

  const url = () => {
    const info = readServerInfo(paths);
    return info && `http://127.0.0.1:${info.port}`;
  };
  return {
    name: "local-deployment",
    canTerminateContainers: true,
    calls,
    deployer: localDeployer(paths, { url, call }),
    url,
    call,
    answers: () =>
      callOnce("GET", "/v1/health").then(
        () => true,
        () => false,
      ),
    health: () =>
      callOnce<{ pid: number; apps: number }>("GET", "/v1/health").then(
        (h) => h,
        () => undefined,
      ),
    async lookup(app, environment, name) {
      const found = await callOnce<{ app: AppManifest; fn: FunctionManifest; port: number }>(
        "GET",
        `/v1/fn/${encodeURIComponent(environment)}/${encodeURIComponent(app)}/${encodeURIComponent(name)}`,
      );
      const spec = specOf(found.app, found.fn);
      ports.set(`${environment}/${app}/${name}`, found.port);
      return spec;
    },
    webUrl(fn) {
      const port = ports.get(`${fn.environment}/${fn.app}/${fn.name}`);
      if (fn.options.web === undefined || port === undefined) return undefined;
      return `http://127.0.0.1:${port}/web/${fn.environment}/${fn.app}/${fn.name}`;
    },
    submit(fn: FunctionSpec, inputs: readonly Input[], sink: OutcomeSink): void {
      runOverHttp(fn, inputs, wireInput, sink, {
        open,
        send: (body) => send("POST", fnPath(fn, "run"), body),
        failure,
        refusal,
        where: where(),
      });
    },
    abort(fn: FunctionSpec, inputIds: readonly string[], options?: AbortOptions): void {
      for (const id of inputIds) open.get(id)?.();
      call("POST", fnPath(fn, "abort"), { inputIds, terminateContainers: options?.terminateContainers === true }).catch(() => {
        // Unreachable for the whole window: whatever ran there has no caller waiting for it.
      });
    },
    updateAutoscaler(fn: FunctionSpec, settings: AutoscalerSettings) {
      return callOnce<EffectiveAutoscaler>("POST", fnPath(fn, "autoscaler"), settings);
    },
    autoscalerSettings(fn: FunctionSpec) {
      return callOnce<AutoscalerSettings>("GET", fnPath(fn, "autoscaler"));
    },
    getCurrentStats(fn: FunctionSpec) {
      return callOnce<FunctionStats>("GET", fnPath(fn, "stats"));
    },
    async close() {
      agent?.destroy();
    },
  };
}

function wireInput(input: Input) {
  const { inputId, callId, attempt, args, parentInputId } = input;
  return parentInputId === undefined ? { inputId, callId, attempt, args } : { inputId, callId, attempt, args, parentInputId };
}
