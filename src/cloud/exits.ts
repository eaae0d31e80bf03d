/**
 * A function that calls `process.exit(code)` ends its instance, and with it every request the
 * instance was answering. Lambda tells the caller the exit code; an HTTP platform (Cloud Run)
 * only cuts the connection. So while requests are in flight, `process.exit` first answers each
 * of them with its failure, naming the code, then exits as asked: the answers are small and
 * written at once, before the process ends (a socket's write is tried synchronously first).
 * The servers they came through stop listening first: the process takes a while to end, and a
 * request that reached it meanwhile would be lost with it, while a refused one goes elsewhere.
 */
import type { Server } from "node:net";

/** Answers one request in flight with the exit, synchronously as far as it can. */
export type ExitAnswer = (code: number) => void;

const answering = new Map<ExitAnswer, Server | undefined>();
let installed = false;

/** Registers a request in flight (and the server it came through); the returned function unregisters it once answered. */
export function answerOnExit(answer: ExitAnswer, server?: Server): () => void {
  install();
  answering.set(answer, server);
  return () => answering.delete(answer);
}

function install(): void {
  if (installed) return;
  installed = true;
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    const numeric = Number(code ?? process.exitCode ?? 0);
    for (const server of new Set(answering.values())) server?.close();
    for (const answer of [...answering.keys()]) {
      try {
        answer(numeric);
      } catch {
        // an answer that cannot be written is a cut connection, as without this
      }
    }
    answering.clear();
    return exit(code as number);
  }) as typeof process.exit;
}
