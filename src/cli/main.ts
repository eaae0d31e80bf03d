#!/usr/bin/env node
/**
 * The `faasade` command: `run` works without any deployment; the other commands drive
 * deployments (the local one under FAASADE_HOME by default). See docs/cli.md.
 */
import { type Stats, statSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CommanderError } from "commander";
import { InvalidError, NotFoundError } from "../core/errors.js";
import { COMMANDS, type Ran, program } from "./program.js";
import { errorReport, usageError } from "./report.js";

async function main(given: string[]): Promise<void> {
  const argv = given.length === 0 ? ["--help"] : given; // no command: the help, on stdout
  const ran: Ran = { keepsRunning: false };
  try {
    await program({ out: (text) => console.log(text), load }, ran).parseAsync(argv, { from: "user" });
    if (!ran.keepsRunning) process.exit(process.exitCode ?? 0); // idle keep-alive sockets and pools must not hold a finished command
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) process.exit(0); // --help, --version
    const shown =
      err instanceof CommanderError
        ? usageError(
            err,
            argv,
            COMMANDS.map((c) => c.name),
          )
        : err;
    console.error(errorReport(shown, argv.includes("--verbose")));
    process.exit(1);
  }
}

/** The file's stat, undefined when it does not exist; a path the system refuses (too long, looping links, a file
 * used as a folder, no permission) is the user's input at fault, so it is an InvalidError that says why. */
function statOf(file: string): Stats | undefined {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch (err) {
    const reason = String((err as Error).message).split(",")[0]; // "ENAMETOOLONG: name too long", without the path again
    throw new InvalidError(`cannot read ${file.length > 80 ? `${file.slice(0, 80)}…` : file}: ${reason}`);
  }
}

/** Imports a user's file; TypeScript through tsx, which the user installs. */
async function load(file: string): Promise<Record<string, unknown>> {
  const found = statOf(file);
  if (found === undefined) throw new NotFoundError(`no such file: ${file}`);
  if (found.isDirectory())
    throw new InvalidError(`${file} is a directory: give the file that defines the app, as in faasade run app.ts`);
  if (/\.(c|m)?tsx?$/.test(file)) {
    const { register } = await import("tsx/esm/api").catch(() => {
      throw new InvalidError(`${file} is TypeScript: install tsx (npm i -D tsx) to run it`);
    });
    register();
  }
  return import(pathToFileURL(resolve(file)).href).catch((err: Error & { code?: string }) => {
    // Node refuses some paths as module URLs (an encoded backslash, say): the file, not its code, is at fault.
    if (err.code === "ERR_INVALID_MODULE_SPECIFIER") throw new InvalidError(`cannot import ${file}: ${err.message}`);
    throw err;
  });
}

await main(process.argv.slice(2));
