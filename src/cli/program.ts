/**
 * The `faasade` command line, on commander: every command, its arguments and options, and the
 * help that `faasade --help`, `faasade <command> --help` and docs/cli.md show alike.
 */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import type { CommandOptions, CommandSpec, Io } from "./command.js";
import { dashboardCommand } from "./dashboard-command.js";
import { deployCommands } from "./deploy-commands.js";
import { runCommands } from "./run-commands.js";
import { serverCommands } from "./server-commands.js";

export const COMMANDS: CommandSpec[] = [...runCommands, ...deployCommands, ...serverCommands, dashboardCommand];

const VERSION = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

export interface Ran {
  /** The command ran; whether the process must stay up after it (serve, logs --follow). */
  keepsRunning: boolean;
}

/** A program whose actions run the specs with `io`; `ran` says what ran. */
export function program(io: Omit<Io, "options" | "json" | "provider">, ran: Ran): Command {
  const cli = new Command("faasade")
    .description("Modal's Function / FunctionCall semantics on any serverless provider.")
    .version(VERSION, "-v, --version", "print the version")
    .helpOption("-h, --help", "show this help; faasade <command> --help for one command")
    .addOption(new Option("--env <name>", "the app's environment").default("main"))
    .addOption(
      new Option("--provider <name>", "local, aws, gcp, azure, or any faasade/<name> provider")
        .env("FAASADE_PROVIDER")
        .default("local"),
    )
    .option("--json", "machine-readable output: always valid JSON")
    .option("--verbose", "with an error, print the local stack and the remote one")
    .addHelpText("after", "\nState of local deployments: FAASADE_HOME (default ~/.faasade).")
    // A fixed width: the help reads the same on every terminal, and docs/cli.md holds it verbatim.
    .configureHelp({ sortSubcommands: false, helpWidth: 110 })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
  for (const spec of COMMANDS) {
    const command = cli
      .command(spec.args ? `${spec.name} ${spec.args}` : spec.name)
      .summary(spec.summary)
      .description(spec.details ? `${spec.summary}\n\n${spec.details}` : spec.summary)
      .helpOption("-h, --help", "show this help")
      .configureHelp({ helpWidth: 110 })
      .addHelpText("after", "\nGlobal options: --env <name>, --provider <name>, --json, --verbose (see faasade --help).")
      .allowExcessArguments(false)
      .exitOverride()
      .configureOutput({ writeErr: () => {}, outputError: () => {} });
    for (const [flags, description] of spec.options ?? []) command.option(flags, description);
    command.action(async (...given: unknown[]) => {
      const self = given.at(-1) as Command;
      const options = self.optsWithGlobals() as CommandOptions;
      const args = given.slice(0, -2).flatMap((a) => (a === undefined ? [] : a)) as string[];
      ran.keepsRunning = spec.keepsRunning?.(options) ?? false;
      const json = options.json === true;
      await spec.run(args, {
        ...io,
        options: { ...options, json, verbose: options.verbose === true },
        json,
        provider: options.provider,
      });
    });
  }
  cli.command("__server", { hidden: true }).action(() => {
    ran.keepsRunning = true;
    return runBackgroundServer();
  });
  return cli;
}

async function runBackgroundServer(): Promise<void> {
  const [{ runServer }, { homePaths }] = await Promise.all([
    import("../providers/local/deploy/process.js"),
    import("../providers/local/deploy/home.js"),
  ]);
  await runServer(homePaths(), false);
}
