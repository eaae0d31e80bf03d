/**
 * How the CLI reports a failure: one line naming the error class and the cause; with
 * `--verbose`, the local stack and then each cause's, the remote one included (a user's own
 * frame, `app.ts:22`, is in the cause that came back over the wire).
 */
import type { CommanderError } from "commander";
import { FaasadeError, InvalidError, describe } from "../core/errors.js";

export function errorReport(err: unknown, verbose: boolean): string {
  if (!verbose || !(err instanceof Error)) return `faasade: ${oneLine(err)}`;
  const parts = [`faasade: ${err.stack ?? oneLine(err)}`];
  const seen = new Set<unknown>([err]);
  for (let cause = err.cause; cause !== undefined && !seen.has(cause); cause = (cause as Error).cause) {
    seen.add(cause);
    parts.push(`Caused by: ${cause instanceof Error ? (cause.stack ?? oneLine(cause)) : describe(cause)}`);
  }
  return parts.join("\n");
}

/** `<ErrorName>: <message>`, line breaks folded: a message may quote input that has some. */
function oneLine(err: unknown): string {
  const name = err instanceof FaasadeError ? err.name : "Error";
  const message = String((err as Error | undefined)?.message ?? err).replace(/\s*\n\s*/g, " ");
  return `${name}: ${message}`;
}

/**
 * commander's own usage errors as the CLI's InvalidError: one line, the bad word quoted as every
 * other message quotes it (cut to 60 characters, line breaks escaped), and where to read more.
 */
export function usageError(err: CommanderError, argv: readonly string[], commands: readonly string[]): InvalidError {
  const word = /'([^']*)'/.exec(err.message)?.[1];
  const quoted = word === undefined ? undefined : describe(badWord(err.code, word, argv));
  const text = err.message
    .replace(/^error: /, "")
    .replace(/'[^']*'/, quoted ?? "")
    .replace(/\s*\n\s*/g, " ")
    .replace(/\(Did you mean (.*)\?\)/, "(did you mean $1?)");
  const command = err.code === "commander.unknownCommand" ? undefined : argv.find((a) => commands.includes(a));
  return new InvalidError(`${text}; see faasade ${command === undefined ? "" : `${command} `}--help`);
}

/** commander quotes the word as it printed it; the argv entry is the whole word, line breaks included. */
function badWord(code: string, word: string, argv: readonly string[]): string {
  if (code !== "commander.unknownCommand") return word;
  return argv.find((a) => !a.startsWith("-")) ?? word;
}
