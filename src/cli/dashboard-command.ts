/**
 * `faasade dashboard`: the local deployment server's dashboard (started if not running), or with
 * --provider <cloud> a cloud's, served by this command until Ctrl-C; and its login URL.
 */
import { spawn } from "node:child_process";
import { cloudDashboardSource, isCloudProvider } from "../cloud/dashboard-source.js";
import { InvalidError } from "../core/errors.js";
import { loadProvider } from "../core/providers.js";
import { serveDashboard } from "../dashboard/serve.js";
import { homePaths, readToken } from "../providers/local/deploy/home.js";
import { ensureServer, runningServer } from "../providers/local/deploy/process.js";
import type { CommandSpec, Io } from "./command.js";
import { progress } from "./progress.js";

function wantedPort(io: Io): number | undefined {
  const given = io.options.port;
  if (given === undefined || given === true || given === false) return undefined;
  const n = Number(given);
  if (!/^\d+$/.test(given) || n < 1 || n > 65_535)
    throw new InvalidError(`--port must be a port from 1 to 65535, got ${JSON.stringify(given)}`);
  return n;
}

/** Opens the URL in the desktop's browser; a machine without one only misses the window. */
function openBrowser(url: string): void {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(command, [url], { detached: true, stdio: "ignore" });
  child.on("error", () => process.stderr.write(`faasade: could not open a browser (${command}); open the URL above\n`));
  child.unref();
}

export const dashboardCommand: CommandSpec = {
  name: "dashboard",
  summary: "serve the dashboard of the deployed apps and print its URL",
  details:
    'Served by the local deployment server on 127.0.0.1 (started if it is not running), behind a login token carried in the URL; the browser keeps it as a cookie. --port N starts the server on port N if none runs (a running server keeps its port: stop it first to change it). With --provider aws|gcp|azure: that cloud\'s deployed apps, served by this command on 127.0.0.1 until Ctrl-C (on --port N, else a free port), with a token made for the run. With --json: {"url": "..."}.',
  options: [
    ["--port <n>", "the port of a server started for it (default: the server's own)"],
    ["--open", "open the URL in a browser"],
  ],
  keepsRunning: (options) => options.provider !== "local",
  async run(_args, io) {
    const port = wantedPort(io);
    if (io.provider !== "local") return serveCloud(io, port);
    const paths = homePaths();
    const running = await runningServer(paths);
    if (port !== undefined && running !== undefined && running.port !== port) {
      throw new InvalidError(
        `the local deployment server already runs on port ${running.port}: run faasade stop first to serve the dashboard on ${port}`,
      );
    }
    if (port !== undefined) process.env.FAASADE_PORT = String(port); // the port of the server started below
    const shown = progress(process.stderr, !io.json);
    const server = await ensureServer(paths, () => shown.update("starting the deployment server")).finally(() => shown.done());
    const token = readToken(paths);
    if (token === undefined) throw new InvalidError(`no token in ${paths.token}: run faasade token rotate`);
    const url = `http://127.0.0.1:${server.port}/dashboard?token=${encodeURIComponent(token)}`;
    io.out(io.json ? JSON.stringify({ url }) : url);
    if (io.options.open === true) openBrowser(url);
  },
};

/** A cloud's dashboard, served here until a signal: the provider as the other commands reach it (its environment). */
async function serveCloud(io: Io, port: number | undefined): Promise<void> {
  const provider = (await loadProvider(io.provider)).defaultProvider();
  if (!isCloudProvider(provider)) throw new InvalidError(`provider ${JSON.stringify(io.provider)} has no dashboard`);
  const served = await serveDashboard(cloudDashboardSource(provider), port === undefined ? {} : { port });
  io.out(io.json ? JSON.stringify({ url: served.url }) : served.url);
  if (!io.json) process.stderr.write(`faasade: serving the ${io.provider} dashboard until Ctrl-C\n`);
  if (io.options.open === true) openBrowser(served.url);
  const stop = () => {
    void Promise.allSettled([served.close(), provider.close?.()]).then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
