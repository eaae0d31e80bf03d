/** `faasade run`: a file's localEntrypoint, or one of its functions, with no deployment. */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ENTRY, ENTRYPOINT_SCHEDULED } from "../core/caller.js";
import { InvalidError, NotFoundError } from "../core/errors.js";
import type { CommandSpec, Io } from "./command.js";
import { functionsOf } from "./exports.js";
import { parseJsonArgs, printResult, printYielded } from "./output.js";

export const runCommands: CommandSpec[] = [
  {
    name: "run",
    args: "<file[::function]> [json-args...]",
    summary: "run a file's localEntrypoint, or one function (<file>::<function>)",
    details:
      "<file>::<function> calls that function with JSON arguments and prints its JSON result. No deployment needed: the functions run on the file's own provider (local processes by default). A generator function prints one JSON line per value as it comes.",
    // The process ends by itself once the entrypoint's work is done, as `node file` would.
    keepsRunning: () => true,
    async run([target, ...raw], io) {
      const [file, fnName, extra] = (target as string).split("::") as [string, string | undefined, unknown];
      if (fnName === "" || extra !== undefined)
        throw new InvalidError(`run: expected <file> or <file>::<function>, got ${JSON.stringify(target)}`);
      if (fnName === undefined) {
        if (raw.length > 0)
          throw new InvalidError(`run: arguments go to a function, as in faasade run ${file}::<function> ${raw.join(" ")}`);
        return runEntrypoint(file, io);
      }
      return runFunction(file, fnName, parseJsonArgs(raw), io);
    },
  },
];

async function runEntrypoint(file: string, io: Io): Promise<void> {
  const globals = globalThis as Record<symbol, unknown>;
  globals[ENTRY] = pathToFileURL(resolve(file)).href;
  const exports = await io.load(file);
  if (globals[ENTRYPOINT_SCHEDULED] === true) return;
  const names = functionsOf(file, exports).map((f) => f.name);
  const listed = names.length === 0 ? "it exports no function either" : `its functions: ${names.join(", ")}`;
  throw new NotFoundError(
    `${file} defines no localEntrypoint, so nothing ran; ${listed}. Call one with faasade run ${file}::<function> [json-args...]`,
  );
}

async function runFunction(file: string, fnName: string, args: unknown[], io: Io): Promise<void> {
  const exports = await io.load(file);
  const fn = functionsOf(file, exports).find((f) => f.name === fnName);
  if (fn === undefined) {
    const names = functionsOf(file, exports).map((f) => f.name);
    throw new NotFoundError(
      `${file} exports no function named "${fnName}"${names.length > 0 ? `; it exports ${names.join(", ")}` : ""}`,
    );
  }
  try {
    if (fn.isGenerator) await printYielded(io, fn.remoteGen(...args));
    else printResult(io, await fn.remote(...args));
  } finally {
    await fn.definition().app.close();
  }
}
