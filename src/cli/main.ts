#!/usr/bin/env node
/**
 * The `faasade` command. This version runs apps on the local provider (`run`); the
 * deployment commands arrive with local deployments.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ENTRY } from "../core/caller.js";
import { FaasadeError, InvalidError, NotFoundError } from "../core/errors.js";
import { Function_ } from "../core/function.js";

const HELP = `Usage: faasade <command> [options]

Commands:
  run <file>                        import <file> and run its localEntrypoint
  run <file>::<function> [args...]  call one function with JSON arguments, print its JSON result

Options:
  --json      machine-readable output
  --verbose   print stacks with errors
  --help      this help

Not yet available in this version: deploy, serve, call, spawn, get, cancel, stats, warm, graph, ls, destroy.`;

const PLANNED = new Set(["deploy", "serve", "call", "spawn", "get", "cancel", "stats", "warm", "graph", "ls", "destroy"]);

async function main(argv: string[]): Promise<void> {
  const flags = new Set(argv.filter((a) => a.startsWith("--")));
  const args = argv.filter((a) => !a.startsWith("--"));
  const verbose = flags.has("--verbose");
  try {
    for (const flag of flags) {
      if (!["--json", "--verbose", "--help"].includes(flag)) throw new InvalidError(`unknown option ${flag}; see faasade --help`);
    }
    const [command, target, ...rest] = args;
    if (flags.has("--help") || command === undefined || command === "help") {
      console.log(HELP);
      return;
    }
    if (command !== "run") {
      if (PLANNED.has(command)) throw new InvalidError(`"${command}" is not available yet in this version of faasade`);
      throw new InvalidError(`unknown command "${command}"; see faasade --help`);
    }
    if (target === undefined) throw new InvalidError("run: expected a file, as in faasade run app.ts or faasade run app.ts::fn");
    const [file, fnName] = target.split("::") as [string, string | undefined];
    if (fnName === undefined) await runEntrypoint(file);
    else await runFunction(file, fnName, rest, flags.has("--json"));
  } catch (err) {
    process.exitCode = 1;
    const name = err instanceof FaasadeError ? err.name : "Error";
    console.error(verbose && err instanceof Error ? err.stack : `faasade: ${name}: ${(err as Error)?.message ?? err}`);
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
      throw new InvalidError(`argument ${i + 1} is not valid JSON: ${raw}`);
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
