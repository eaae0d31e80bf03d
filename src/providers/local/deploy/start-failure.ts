/**
 * Why a background server did not start, from what it wrote to server.log during that start:
 * the reason goes into the error itself, so that a user never has to open the log to learn that,
 * say, better-sqlite3 is missing and how to install it.
 */

/** The CLI's report of a failure: `faasade: <Name>: <message>` on one line (src/cli/report.ts). */
const REPORTED = /^faasade: \w*(?:Error|Failure): (.*)$/;
/** Node's own report of an uncaught error: `TypeError: ...`, `Error [ERR_MODULE_NOT_FOUND]: ...`. */
const UNCAUGHT = /^\w*Error(?: \[\w+\])?: .+$/;
const MAX_REASON = 500;

/** The one line of `output` that says why the start failed; undefined when it says nothing. */
export function startFailureReason(output: string): string | undefined {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const reported = lines.findLast((l) => REPORTED.test(l));
  const reason =
    (reported === undefined ? undefined : REPORTED.exec(reported)?.[1]) ?? lines.find((l) => UNCAUGHT.test(l)) ?? lines.at(-1);
  if (reason === undefined) return undefined;
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason;
}

/** The message of a failed start: the reason, then where the whole log is. */
export function startFailure(output: string, logFile: string): string {
  const reason = startFailureReason(output);
  return reason === undefined
    ? `the local deployment server did not start and wrote nothing to ${logFile}`
    : `the local deployment server did not start: ${reason} (the whole log: ${logFile})`;
}
