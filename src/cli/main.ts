#!/usr/bin/env node
/**
 * The `faasade` command: `run` works without any deployment; the other commands drive the
 * local deployment under FAASADE_HOME.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ENTRY } from "../core/caller.js";
import { FaasadeError, InvalidError, NotFoundError, describe } from "../core/errors.js";
import { Function_ } from "../core/function.js";
import { homePaths } from "../providers/local/deploy/home.js";
import { deployCommands } from "./deploy-commands.js";
import { runServer } from "../providers/local/deploy/process.js";

const COMMANDS: Record<string, string> = {
  run: "run <file> | run <file>::<function> [json-args...]\n  Imports <file> and runs its localEntrypoint, or calls one function with JSON arguments and prints its JSON result. No deployment needed.",
  deploy:
    "deploy <file>\n  Deploys the apps <file> defines to the local deployment (started in the background if needed); prints each function and web URL.",
  serve: "serve <file>\n  Runs a local deployment in the foreground with the apps <file> defines, until Ctrl-C.",
  call: "call <app>/<function> [json-args...]\n  Runs one input of a deployed function and prints its JSON result.",
  spawn: "spawn <app>/<function> [json-args...]\n  Queues one input durably and prints its call id.",
  get: "get <call-id> [--timeout-ms N]\n  Prints the result of a spawned call (waits for it; N = 0 polls once).",
  cancel: "cancel <call-id> [--terminate-containers]\n  Cancels a spawned call.",
  stats: "stats <app>/<function>\n  Prints { backlog, numTotalRunners, numRunningInputs }.",
  warm: "warm <app>/<function> <n>\n  Keeps at least n containers warm.",
  graph: "graph <call-id>\n  Prints the call graph of a spawned call.",
  ls: "ls\n  Lists deployed apps and their functions.",
  token:
    "token rotate\n  Replaces the local deployment's token (FAASADE_HOME/token) with a new random one; a running server takes the new one at once and refuses the old.",
  destroy: "destroy <app>\n  Stops serving the app and deletes its state.",
};

const HELP = `Usage: faasade <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((text) => `  ${text.split("\n")[0]}`)
  .join("\n")}

Options:
  --env <name>   environment of the app (default "main")
  --provider <p> local (default), aws, or any faasade/<p> provider; FAASADE_PROVIDER also works
  --json         machine-readable output
  --verbose      print stacks with errors
  --help         this help, or a command's (faasade <command> --help)

State of local deployments: FAASADE_HOME (default ~/.faasade).`;

const VALUE_FLAGS = new Set(["--env", "--timeout-ms", "--provider"]);
const BOOL_FLAGS = new Set(["--json", "--verbose", "--help", "--terminate-containers"]);

function parse(argv: string[]): { args: string[]; flags: Map<string, string | true> } {
  const args: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith("--")) {
      args.push(a);
      continue;
    }
    const [name, inline] = a.split("=", 2) as [string, string | undefined];
    if (VALUE_FLAGS.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new InvalidError(`${name} needs a value`);
      if (inline === undefined && value.startsWith("--"))
        throw new InvalidError(`${name} needs a value, got the option ${describe(value)}`);
      flags.set(name, value);
    } else if (BOOL_FLAGS.has(name)) flags.set(name, true);
    else throw new InvalidError(`unknown option ${describe(name)}; see faasade --help`);
  }
  return { args, flags };
}

async function main(argv: string[]): Promise<void> {
  const verbose = argv.includes("--verbose");
  try {
    const { args, flags } = parse(argv);
    const [command, ...rest] = args;
    const provider = flags.get("--provider") ?? process.env.FAASADE_PROVIDER ?? "local";
    if (typeof provider !== "string") throw new InvalidError("--provider needs a provider name, as in --provider aws");
    if (command === "__server") {
      await runServer(homePaths(), false);
      return;
    }
    if (command === undefined || command === "help") {
      console.log(HELP);
      return;
    }
    const usage = COMMANDS[command];
    if (usage === undefined) throw new InvalidError(`unknown command ${describe(command)}; see faasade --help`);
    if (flags.has("--help")) {
      console.log(`Usage: faasade ${usage}`);
      return;
    }
    const json = flags.has("--json");
    if (command === "run") {
      const [target, ...raw] = rest;
      if (target === undefined)
        throw new InvalidError("run: expected a file, as in faasade run app.ts or faasade run app.ts::fn");
      const [file, fnName] = target.split("::") as [string, string | undefined];
      if (fnName === undefined) await runEntrypoint(file);
      else await runFunction(file, fnName, raw, json);
      return;
    }
    await (deployCommands[command] as (a: string[], io: Parameters<(typeof deployCommands)["ls"]>[1]) => Promise<void>)(rest, {
      json,
      flags,
      provider,
      out: (text) => console.log(text),
      load,
    });
    if (command !== "serve") process.exit(process.exitCode ?? 0); // idle keep-alive sockets and pools must not hold a finished command
  } catch (err) {
    process.exitCode = 1;
    const name = err instanceof FaasadeError ? err.name : "Error";
    // One line (a message may quote input with line breaks in it); --verbose adds the stack.
    const message = String((err as Error)?.message ?? err).replace(/\s*\n\s*/g, " ");
    console.error(verbose && err instanceof Error ? err.stack : `faasade: ${name}: ${message}`);
    process.exit(1);
  }
}

async function load(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(file)).href;
  if (/\.(c|m)?tsx?$/.test(file)) {
    const { register } = await import("tsx/esm/api").catch(() => {
      throw new InvalidError(`${file} is TypeScript: install tsx (npm i -D tsx) to run it`);
    });
    register();
  }
  return import(url).catch((err: Error & { code?: string }) => {
    if (err.code === "ERR_MODULE_NOT_FOUND" && err.message.includes(resolve(file)))
      throw new NotFoundError(`no such file: ${file}`);
    throw err;
  });
}

async function runEntrypoint(file: string): Promise<void> {
  (globalThis as Record<symbol, unknown>)[ENTRY] = pathToFileURL(resolve(file)).href;
  await load(file);
}

async function runFunction(file: string, fnName: string, rawArgs: string[], json: boolean): Promise<void> {
  const args = rawArgs.map((raw, i) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new InvalidError(`argument ${i + 1} is not valid JSON: ${describe(raw)}`);
    }
  });
  const exports = await load(file);
  const fn = Object.values(exports).find((v): v is Function_ => v instanceof Function_ && v.name === fnName);
  if (fn === undefined) throw new NotFoundError(`${file} exports no function named "${fnName}"`);
  const app = Object.values(exports).find((v) => v !== null && typeof v === "object" && "localEntrypoint" in v) as
    | { close(): Promise<void> }
    | undefined;
  try {
    const result = await fn.remote(...args);
    console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } finally {
    await app?.close();
  }
}

await main(process.argv.slice(2));
