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
import type { CommandSpec, Io } from "./command.js";
import { functionsOf } from "./exports.js";
import { parseJsonArgs, printResult, printYielded } from "./output.js";
import { type Progress, progress } from "./progress.js";

const env = (io: Io) => io.options.env;

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
  for (const fn of functionsOf(file, exports)) apps.add(fn.definition().app);
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

export const deployCommands: CommandSpec[] = [
  {
    name: "deploy",
    args: "<file>",
    summary: "deploy the apps whose functions <file> exports (idempotent)",
    details:
      "Prints each function and its web URL. On the local provider the background deployment server under FAASADE_HOME is started if none runs.",
    async run([file], io) {
      const shown = progress(process.stderr, !io.json);
      await deployFile(file as string, io, shown).finally(() => shown.done());
    },
  },
  {
    name: "serve",
    args: "<file>",
    summary: "serve <file>'s apps from a local deployment in the foreground",
    details:
      "With --watch, redeploys whenever <file> or a file it imports (outside node_modules) changes; inputs in flight finish on the old code.",
    options: [["--watch", "redeploy when <file> or what it imports changes"]],
    keepsRunning: () => true,
    async run([file], io) {
      if (io.provider !== "local")
        throw new InvalidError(`serve runs a local deployment: drop --provider ${io.provider}, or use deploy`);
      const paths = homePaths();
      if (await serverAnswers(paths)) {
        throw new InvalidError(
          `a deployment server already runs for FAASADE_HOME=${paths.home} (pid ${readServerInfo(paths)?.pid}); use faasade deploy`,
        );
      }
      const server = await runServer(paths, true);
      if (io.options.watch === true) {
        const { serveWatching } = await import("./watch.js");
        await serveWatching(file as string, io, paths.home, server.port);
        return;
      }
      const shown = progress(process.stderr, !io.json);
      await deployFile(file as string, io, shown).finally(() => shown.done());
      const url = `http://127.0.0.1:${server.port}`;
      io.out(io.json ? JSON.stringify({ serving: url }) : `serving on ${url} until Ctrl-C`);
    },
  },
  {
    name: "call",
    args: "<app/function> [json-args...]",
    summary: "run one input of a deployed function and print its result",
    details: "The result is printed as JSON; a generator's values one JSON line each, as they come.",
    async run([ref, ...raw], io) {
      const fn = await fnRef(ref, io, "call");
      const args = parseJsonArgs(raw);
      await fn.hydrate();
      if (fn.isGenerator) return printYielded(io, fn.remoteGen(...args));
      const shown = progress(process.stderr, !io.json);
      shown.update(`calling ${ref}`);
      printResult(io, await fn.remote(...args).finally(() => shown.done()));
    },
  },
  {
    name: "spawn",
    args: "<app/function> [json-args...]",
    summary: "queue one input durably and print its call id",
    async run([ref, ...raw], io) {
      const fn = await fnRef(ref, io, "spawn");
      const call = await fn.spawn(...parseJsonArgs(raw));
      io.out(io.json ? JSON.stringify({ functionCallId: call.functionCallId }) : call.functionCallId);
    },
  },
  {
    name: "get",
    args: "<call-id>",
    summary: "wait for a spawned call and print its result",
    details: "The result is printed as JSON; a generator call's values one JSON line each, as they come.",
    options: [["--timeout-ms <ms>", "wait at most this long, then fail with TimeoutError (0 polls once)"]],
    async run([id], io) {
      const raw = io.options.timeoutMs;
      const timeoutMs = raw === undefined ? undefined : Number(raw);
      if (timeoutMs !== undefined && !(timeoutMs >= 0))
        throw new InvalidError(`get: --timeout-ms must be a number ≥ 0, got ${describe(raw)}`);
      const call = FunctionCall.fromId(id as string, { provider: await target(io) });
      const options = timeoutMs === undefined ? {} : { timeoutMs };
      if (await call.isGeneratorCall(options)) return printYielded(io, call.getGen());
      const shown = progress(process.stderr, !io.json);
      shown.update(`waiting for ${id}`);
      printResult(io, await call.get(options).finally(() => shown.done()));
    },
  },
  {
    name: "cancel",
    args: "<call-id>",
    summary: "cancel a spawned call",
    options: [["--terminate-containers", "also stop the containers running it (their other inputs run elsewhere)"]],
    async run([id], io) {
      await FunctionCall.fromId(id as string, { provider: await target(io) }).cancel({
        terminateContainers: io.options.terminateContainers === true,
      });
      io.out(io.json ? JSON.stringify({ cancelled: id }) : `cancelled ${id}`);
    },
  },
  {
    name: "stats",
    args: "<app/function>",
    summary: "print a function's backlog, containers and running inputs",
    async run([ref], io) {
      const stats = await (await fnRef(ref, io, "stats")).getCurrentStats();
      io.out(
        io.json
          ? JSON.stringify(stats)
          : `backlog ${stats.backlog}  containers ${stats.numTotalRunners}  running ${stats.numRunningInputs}`,
      );
    },
  },
  {
    name: "warm",
    args: "<app/function> <n>",
    summary: "keep at least n containers of a function warm",
    async run([ref, n], io) {
      const count = Number(n);
      if (!Number.isInteger(count) || count < 0)
        throw new InvalidError(`warm: expected a container count ≥ 0, got ${describe(n ?? "")}`);
      const settings = await (await fnRef(ref, io, "warm")).keepWarm(count);
      io.out(
        io.json ? JSON.stringify(settings) : `minContainers ${settings.minContainers} (maxContainers ${settings.maxContainers})`,
      );
    },
  },
  {
    name: "graph",
    args: "<call-id>",
    summary: "print the call graph of a spawned call",
    async run([id], io) {
      const graph = await FunctionCall.fromId(id as string, { provider: await target(io) }).getCallGraph();
      if (io.json) io.out(JSON.stringify(graph));
      else printGraph(graph, io);
    },
  },
  {
    name: "ls",
    summary: "list the deployed apps and their functions",
    details: "While the local deployment server is stopped: the apps stored under FAASADE_HOME, after a line saying so.",
    async run(_args, io) {
      const apps = await (await deployerFor(io)).list();
      if (io.json) {
        const rows = apps.map((a) => ({
          app: a.app,
          environment: a.environment,
          functions: a.functions.map((f) => f.name),
          deployedAt: a.deployedAt,
          ...(a.serving === undefined ? {} : { serving: a.serving }),
        }));
        return io.out(JSON.stringify(rows));
      }
      if (apps.length === 0) io.out("no apps deployed");
      else if (apps.some((a) => a.serving === false))
        io.out("the local deployment server is stopped: these apps are stored, not served (faasade start serves them)");
      for (const a of apps) io.out(`${a.app} (${a.environment})  ${a.functions.map((f) => f.name).join(", ")}`);
    },
  },
  {
    name: "destroy",
    args: "<app>",
    summary: "stop serving an app and delete its resources and state",
    async run([app], io) {
      const shown = progress(process.stderr, !io.json);
      await (await deployerFor(io))
        .destroy(app as string, env(io), { log: (line) => shown.update(line) })
        .finally(() => shown.done());
      io.out(io.json ? JSON.stringify({ destroyed: app }) : `destroyed ${app}`);
    },
  },
  {
    name: "token",
    args: "<action>",
    summary: "token rotate: give the local deployment a new random token",
    details:
      "The token lives in FAASADE_HOME/token and is never printed; a running server takes the new one at once and refuses the old.",
    async run([action], io) {
      if (action !== "rotate") throw new InvalidError(`token: expected token rotate, got ${describe(action ?? "")}`);
      if (io.provider !== "local")
        throw new InvalidError(`token rotate replaces the local deployment's token: drop --provider ${io.provider}`);
      const paths = homePaths();
      rotateToken(paths); // never printed: the file is the only place the token is kept
      io.out(io.json ? JSON.stringify({ rotated: paths.token }) : `rotated the token in ${paths.token}`);
    },
  },
];
