/**
 * The client of a local deployment: a provider that reaches the server recorded under
 * `FAASADE_HOME` over loopback HTTP with the token kept there. `Function.fromName`,
 * `lookup` and `FunctionCall.fromId` use it when the app is not defined in the calling process.
 */
import { Agent, request } from "node:http";
import type { InputInfo } from "../../../core/call-graph.js";
import { ExecutionError, FaasadeError, InternalFailure, NotFoundError } from "../../../core/errors.js";
import type {
  AbortOptions,
  AutoscalerSettings,
  CallState,
  CallStore,
  EffectiveAutoscaler,
  FunctionSpec,
  FunctionStats,
  Input,
  Outcome,
  OutcomeSink,
  Provider,
  Deployer,
} from "../../../core/provider.js";
import { type HomePaths, homePaths, readServerInfo, readToken } from "./home.js";
import { localDeployer } from "./deployer.js";
import { type AppManifest, type FunctionManifest, specOf } from "../../../core/manifest.js";
import { CBOR, FrameReader, pack, unpack } from "./wire.js";

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
  /** A request to the control API (the CLI's way in). */
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export function deployment(options: DeploymentOptions = {}): DeploymentProvider {
  const paths: HomePaths = homePaths(options.home);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const ports = new Map<string, number>();
  /** Inputs of streams still open, by id: how to stop waiting for one. */
  const open = new Map<string, () => void>();
  const where = () => `the local deployment server (FAASADE_HOME=${paths.home})`;

  const target = () => {
    const info = readServerInfo(paths);
    const token = readToken(paths);
    if (info === undefined || token === undefined) {
      throw new NotFoundError(
        `no local deployment is running (FAASADE_HOME=${paths.home}); deploy with \`faasade deploy <file>\``,
      );
    }
    return { port: info.port, token };
  };

  const send = (method: string, path: string, body?: unknown) => {
    const { port, token } = target();
    const payload = body === undefined ? undefined : pack(body);
    return request({
      agent,
      host: "127.0.0.1",
      port,
      method,
      path,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload ? { "content-type": CBOR, "content-length": payload.byteLength } : {}),
      },
    }).end(payload);
  };

  const failure = (err: NodeJS.ErrnoException): FaasadeError =>
    err.code === "ECONNREFUSED" || err.code === "ECONNRESET"
      ? new ExecutionError(`${where()} is not running (${err.code}); start it with \`faasade deploy <file>\``, { cause: err })
      : err instanceof FaasadeError
        ? err
        : new InternalFailure(`request to ${where()} failed: ${err.message}`, { cause: err });

  const call = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let req: ReturnType<typeof request>;
      try {
        req = send(method, path, body);
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
          if (status === 200) return resolve(unpack<T>(raw));
          let message = raw.toString();
          try {
            message = unpack<{ error: string }>(raw).error;
          } catch {
            // plain text
          }
          if (status === 404) reject(new NotFoundError(message));
          else if (status === 401) reject(new ExecutionError(`${where()} refused the token: ${message}`));
          else reject(new InternalFailure(`${where()}: ${status} ${message}`));
        });
      });
    });

  const fnPath = (fn: FunctionSpec, action?: string) =>
    `/v1/fn/${encodeURIComponent(fn.environment)}/${encodeURIComponent(fn.app)}/${encodeURIComponent(fn.name)}${action ? `/${action}` : ""}`;

  const calls: CallStore = {
    canTerminateContainers: true,
    async spawn(fn, input) {
      await call("POST", fnPath(fn, "spawn"), { input: wireInput(input) });
    },
    async state(callId, waitMs) {
      return call<CallState>("GET", `/v1/calls/${encodeURIComponent(callId)}?waitMs=${waitMs}`);
    },
    async chunks(callId, from, waitMs) {
      return call<CallState & { chunks: Uint8Array[] }>(
        "GET",
        `/v1/calls/${encodeURIComponent(callId)}/chunks?from=${from}&waitMs=${waitMs}`,
      );
    },
    async cancel(callId, options) {
      await call("POST", `/v1/calls/${encodeURIComponent(callId)}/cancel`, {
        terminateContainers: options.terminateContainers === true,
      });
    },
    async callGraph(callId) {
      return call<InputInfo[]>("GET", `/v1/calls/${encodeURIComponent(callId)}/graph`);
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
    async lookup(app, environment, name) {
      const found = await call<{ app: AppManifest; fn: FunctionManifest; port: number }>(
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
      let left = new Set(inputs);
      // An aborted input gets no outcome: once none is awaited, the request is let go.
      const release = (input: Input) => {
        left.delete(input);
        open.delete(input.inputId);
        if (left.size === 0) req?.destroy();
      };
      for (const input of inputs) open.set(input.inputId, () => release(input));
      const lost = (message: string) => {
        const rest = [...left];
        left = new Set();
        for (const input of rest) open.delete(input.inputId);
        for (const input of rest)
          sink.outcome(input, { inputId: input.inputId, attempt: input.attempt, status: "FAILURE", message });
      };
      let req: ReturnType<typeof request> | undefined;
      try {
        req = send("POST", fnPath(fn, "run"), { inputs: inputs.map(wireInput) });
      } catch (err) {
        queueMicrotask(() => lost((err as Error).message));
        return;
      }
      req.on("error", (err) => lost(failure(err).message));
      req.on("response", (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => lost(`${where()} answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`));
          return;
        }
        const reader = new FrameReader();
        res.on("data", (chunk: Buffer) =>
          reader.push(chunk, (m) => {
            const msg = m as { t: "o"; i: number; o: Outcome } | { t: "c"; i: number; a: number; v: Uint8Array };
            const input = inputs[msg.i] as Input;
            if (msg.t === "c") {
              if (left.has(input)) sink.chunk(input, msg.a, msg.v);
            } else if (left.has(input)) {
              open.delete(input.inputId);
              left.delete(input);
              sink.outcome(input, msg.o);
            }
          }),
        );
        res.on("end", () => {
          if (left.size > 0) lost(`${where()} closed the stream early`);
        });
        res.on("error", () => lost(`${where()} went away`));
      });
    },
    abort(fn: FunctionSpec, inputIds: readonly string[], options?: AbortOptions): void {
      for (const id of inputIds) open.get(id)?.();
      call("POST", fnPath(fn, "abort"), { inputIds, terminateContainers: options?.terminateContainers === true }).catch(() => {
        // The server is gone: nothing runs there any more.
      });
    },
    updateAutoscaler(fn: FunctionSpec, settings: AutoscalerSettings) {
      return call<EffectiveAutoscaler>("POST", fnPath(fn, "autoscaler"), settings);
    },
    autoscalerSettings(fn: FunctionSpec) {
      return call<AutoscalerSettings>("GET", fnPath(fn, "autoscaler"));
    },
    getCurrentStats(fn: FunctionSpec) {
      return call<FunctionStats>("GET", fnPath(fn, "stats"));
    },
    async close() {
      agent.destroy();
    },
  };
}

function wireInput(input: Input) {
  const { inputId, callId, attempt, args, parentInputId } = input;
  return parentInputId === undefined ? { inputId, callId, attempt, args } : { inputId, callId, attempt, args, parentInputId };
}
