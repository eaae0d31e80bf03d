/**
 * The commands that talk to deployments: deploy, serve, call, spawn, get, cancel, stats, warm,
 * graph, ls, destroy. Every provider is reached by name (`--provider`, FAASADE_PROVIDER) and
 * through what it implements: its deployment capability (`deployer`), its calls, its lookup.
 */
import type { App } from "../core/app.js";
import type { InputInfo } from "../core/call-graph.js";
import { InvalidError, NotFoundError, describe } from "../core/errors.js";
import { FunctionCall } from "../core/function-call.js";
import { Function_ } from "../core/function.js";
import { manifestOf } from "../core/manifest.js";
import type { Deployer, Provider } from "../core/provider.js";
import { loadProvider } from "../core/providers.js";
import { homePaths, readServerInfo, rotateToken } from "../providers/local/deploy/home.js";
import { runServer, serverAnswers } from "../providers/local/deploy/process.js";
import { type Progress, progress } from "./progress.js";

export interface Io {
  json: boolean;
  /** The provider whose deployments the command reaches, by name. */
  provider: string;
  flags: Map<string, string | true>;
  out(text: string): void;
  load(file: string): Promise<Record<string, unknown>>;
}

const parseJsonArgs = (raw: string[]) =>
  raw.map((text, i) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new InvalidError(`argument ${i + 1} is not valid JSON: ${describe(text)}`);
    }
  });

const env = (io: Io) => {
  const value = io.flags.get("--env");
  return typeof value === "string" ? value : "main";
};

const targets = new Map<string, Promise<Provider>>();
/** The provider that reaches apps deployed on `io.provider`. */
const target = (io: Io): Promise<Provider> => {
  let found = targets.get(io.provider);
  if (found === undefined) {
    found = loadProvider(io.provider).then((m) => (m.defaultDeployment ?? m.defaultProvider)());
    targets.set(io.provider, found);
  }
  return found;
};

/** `<app>/<fn>`, with the environment from --env. */
async function fnRef(ref: string | undefined, io: Io, command: string): Promise<Function_> {
  const match = ref === undefined ? null : /^([^/]+)\/([^/]+)$/.exec(ref);
  if (match === null) throw new InvalidError(`${command}: expected <app>/<function>, got ${describe(ref ?? "")}`);
  return Function_.fromName(match[1] as string, match[2] as string, { environment: env(io), provider: await target(io) });
}

/** The deployment capability of `io.provider`: an app's own configured provider of that name first (its options). */
async function deployerFor(io: Io, apps: App[] = []): Promise<Deployer> {
  const configured = apps.map((a) => a.provider).find((p) => p?.name === io.provider && p.deployer !== undefined);
  const deployer = configured?.deployer ?? (await target(io)).deployer;
  if (deployer === undefined) throw new InvalidError(`provider ${JSON.stringify(io.provider)} cannot deploy apps`);
  return deployer;
}

async function appsOf(file: string, io: Io): Promise<App[]> {
  const exports = await io.load(file);
  const apps = new Set<App>();
  for (const value of Object.values(exports)) {
    if (value instanceof Function_) apps.add(value.definition().app);
  }
  if (apps.size === 0) throw new NotFoundError(`${file} exports no function of any app: export the functions to deploy`);
  return [...apps];
}

async function deployFile(file: string, io: Io, shown: Progress): Promise<void> {
  shown.update(`importing ${file}`);
  const apps = await appsOf(file, io);
  const deployer = await deployerFor(io, apps);
  const deployed = await deployer.deploy(file, apps.map(manifestOf), { log: (line) => shown.update(line) });
  shown.done();
  for (const { app, functions } of deployed) {
    const rows = functions.map((f) => ({ name: f.name, webUrl: f.webUrl, ...(f.resource ? { resource: f.resource } : {}) }));
    if (io.json) io.out(JSON.stringify({ app: app.app, environment: app.environment, provider: io.provider, functions: rows }));
    else {
      io.out(`deployed ${app.app} (${app.environment}) on ${io.provider}`);
      for (const r of rows) io.out(`  ${r.name}${r.resource ? `  ${r.resource}` : ""}${r.webUrl ? `  ${r.webUrl}` : ""}`);
    }
  }
}

function printGraph(nodes: InputInfo[], io: Io, depth = 0): void {
  for (const n of nodes) {
    io.out(`${"  ".repeat(depth)}${n.functionName} ${n.status} ${n.inputId}${n.taskId ? ` on ${n.taskId}` : ""}`);
    printGraph(n.children, io, depth + 1);
  }
}

export const deployCommands: Record<string, (args: string[], io: Io) => Promise<void>> = {
  async deploy([file], io) {
    if (file === undefined) throw new InvalidError("deploy: expected a file, as in faasade deploy app.ts");
    const shown = progress(process.stderr, !io.json);
    await deployFile(file, io, shown).finally(() => shown.done());
  },
  async serve([file], io) {
    if (file === undefined) throw new InvalidError("serve: expected a file, as in faasade serve app.ts");
    if (io.provider !== "local")
      throw new InvalidError(`serve runs a local deployment: drop --provider ${io.provider}, or use deploy`);
    const paths = homePaths();
    if (await serverAnswers(paths)) {
      throw new InvalidError(
        `a deployment server already runs for FAASADE_HOME=${paths.home} (pid ${readServerInfo(paths)?.pid}); use faasade deploy`,
      );
    }
    const server = await runServer(paths, true);
    const shown = progress(process.stderr, !io.json);
    await deployFile(file, io, shown).finally(() => shown.done());
    io.out(`serving on http://127.0.0.1:${server.port} until Ctrl-C`);
    await new Promise(() => {}); // until a signal stops the process
  },
  async call([ref, ...raw], io) {
    const fn = await fnRef(ref, io, "call");
    const args = parseJsonArgs(raw);
    const shown = progress(process.stderr, !io.json);
    shown.update(`calling ${ref}`);
    const result = await fn.remote(...args).finally(() => shown.done());
    io.out(JSON.stringify(result, null, io.json ? 0 : 2));
  },
  async spawn([ref, ...raw], io) {
    const fn = await fnRef(ref, io, "spawn");
    const call = await fn.spawn(...parseJsonArgs(raw));
    io.out(io.json ? JSON.stringify({ functionCallId: call.functionCallId }) : call.functionCallId);
  },
  async get([id], io) {
    if (id === undefined) throw new InvalidError("get: expected a call id");
    const raw = io.flags.get("--timeout-ms");
    const timeoutMs = raw === undefined ? undefined : Number(raw);
    if (timeoutMs !== undefined && !(timeoutMs >= 0))
      throw new InvalidError(`get: --timeout-ms must be a number ≥ 0, got ${describe(raw)}`);
    const call = FunctionCall.fromId(id, { provider: await target(io) });
    const shown = progress(process.stderr, !io.json);
    shown.update(`waiting for ${id}`);
    const result = await call.get(timeoutMs === undefined ? {} : { timeoutMs }).finally(() => shown.done());
    io.out(JSON.stringify(result, null, io.json ? 0 : 2));
  },
  async cancel([id], io) {
    if (id === undefined) throw new InvalidError("cancel: expected a call id");
    await FunctionCall.fromId(id, { provider: await target(io) }).cancel({
      terminateContainers: io.flags.has("--terminate-containers"),
    });
    io.out(io.json ? JSON.stringify({ cancelled: id }) : `cancelled ${id}`);
  },
  async stats([ref], io) {
    const stats = await (await fnRef(ref, io, "stats")).getCurrentStats();
    io.out(
      io.json
        ? JSON.stringify(stats)
        : `backlog ${stats.backlog}  containers ${stats.numTotalRunners}  running ${stats.numRunningInputs}`,
    );
  },
  async warm([ref, n], io) {
    const count = Number(n);
    if (n === undefined || !Number.isInteger(count) || count < 0)
      throw new InvalidError(`warm: expected a container count ≥ 0, got ${describe(n ?? "")}`);
    const settings = await (await fnRef(ref, io, "warm")).keepWarm(count);
    io.out(
      io.json ? JSON.stringify(settings) : `minContainers ${settings.minContainers} (maxContainers ${settings.maxContainers})`,
    );
  },
  async graph([id], io) {
    if (id === undefined) throw new InvalidError("graph: expected a call id");
    const graph = await FunctionCall.fromId(id, { provider: await target(io) }).getCallGraph();
    if (io.json) io.out(JSON.stringify(graph));
    else printGraph(graph, io);
  },
  async ls(_args, io) {
    const apps = await (await deployerFor(io)).list();
    if (io.json) {
      io.out(
        JSON.stringify(
          apps.map((a) => ({
            app: a.app,
            environment: a.environment,
            functions: a.functions.map((f) => f.name),
            deployedAt: a.deployedAt,
          })),
        ),
      );
      return;
    }
    if (apps.length === 0) io.out("no apps deployed");
    for (const a of apps) io.out(`${a.app} (${a.environment})  ${a.functions.map((f) => f.name).join(", ")}`);
  },
  async token([action, ...extra], io) {
    if (action !== "rotate" || extra.length > 0)
      throw new InvalidError(`token: expected token rotate, got ${describe([action, ...extra].join(" "))}`);
    if (io.provider !== "local")
      throw new InvalidError(`token rotate replaces the local deployment's token: drop --provider ${io.provider}`);
    const paths = homePaths();
    rotateToken(paths); // never printed: the file is the only place the token is kept
    io.out(io.json ? JSON.stringify({ rotated: paths.token }) : `rotated the token in ${paths.token}`);
  },
  async destroy([app], io) {
    if (app === undefined) throw new InvalidError("destroy: expected an app name");
    const shown = progress(process.stderr, !io.json);
    await (await deployerFor(io)).destroy(app, env(io), { log: (line) => shown.update(line) }).finally(() => shown.done());
    io.out(io.json ? JSON.stringify({ destroyed: app }) : `destroyed ${app}`);
  },
};
