/**
 * The local deployment server's own commands: start, stop, logs. Each works on the server of
 * FAASADE_HOME (default ~/.faasade) and says what it found: starting a running server or stopping a
 * stopped one is not an error.
 */
import { InvalidError } from "../core/errors.js";
import { type HomePaths, homePaths } from "../providers/local/deploy/home.js";
import { ensureServer, stopServer } from "../providers/local/deploy/process.js";
import { followLog, readLog } from "../providers/local/deploy/server-log.js";
import type { CommandSpec, Io } from "./command.js";
import { progress } from "./progress.js";

/** These commands drive the local deployment only: another provider's is not a server here. */
function localHome(io: Io, command: string): HomePaths {
  if (io.provider !== "local")
    throw new InvalidError(`${command} drives the local deployment server: drop --provider ${io.provider}`);
  return homePaths();
}

const where = (paths: HomePaths) => `FAASADE_HOME=${paths.home}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export const serverCommands: CommandSpec[] = [
  {
    name: "start",
    summary: "start the local deployment server in the background",
    details:
      "It serves every app stored under FAASADE_HOME. If one already runs, says so and exits 0. A server that cannot start prints why (its error from FAASADE_HOME/server.log).",
    async run(_args, io) {
      const paths = localHome(io, "start");
      const shown = progress(process.stderr, !io.json);
      const server = await ensureServer(paths, () => shown.update("starting the deployment server")).finally(() => shown.done());
      const { started, pid, port, apps } = server;
      if (io.json) return io.out(JSON.stringify({ started, pid, port, apps }));
      const url = `http://127.0.0.1:${port}`;
      io.out(
        started
          ? `started the local deployment server (pid ${pid}) on ${url}, serving ${plural(apps, "app")}`
          : `the local deployment server already runs (pid ${pid}) on ${url}, serving ${plural(apps, "app")}`,
      );
    },
  },
  {
    name: "stop",
    summary: "stop the local deployment server gracefully",
    details:
      "Returns once its process is gone. Its containers stop and inputs it had not finished are handed back to its database: they run again at the next start. If none runs, says so and exits 0.",
    async run(_args, io) {
      const paths = localHome(io, "stop");
      const shown = progress(process.stderr, !io.json);
      shown.update("stopping the deployment server");
      const { stopped, pid } = await stopServer(paths).finally(() => shown.done());
      if (io.json) return io.out(JSON.stringify(stopped ? { stopped, pid } : { stopped }));
      io.out(stopped ? `stopped the local deployment server (pid ${pid})` : `no local deployment server runs (${where(paths)})`);
    },
  },
  {
    name: "logs",
    summary: "print the local deployment server's log",
    details:
      'The log is FAASADE_HOME/server.log. With --follow, keeps printing new lines as they are written until Ctrl-C, through the log being removed or replaced. With --json, one JSON line per log line: {"line": "..."}.',
    options: [["-f, --follow", "keep printing new lines until Ctrl-C"]],
    keepsRunning: (options) => options.follow === true,
    async run(_args, io) {
      const paths = localHome(io, "logs");
      const print = (line: string) => io.out(io.json ? JSON.stringify({ line }) : line);
      if (io.options.follow === true) {
        const following = followLog(paths.log, print);
        const stop = () => void following.stop().then(() => process.exit(0));
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        return;
      }
      if (!(await readLog(paths.log, print))) {
        process.stderr.write(
          `faasade: no server log yet: ${paths.log} does not exist (the server has not run in the background)\n`,
        );
      }
    },
  },
];
