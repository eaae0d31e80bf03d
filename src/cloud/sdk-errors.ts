/**
 * What every cloud's SDK errors share: which failures are passing (worth trying again: throttled,
 * a 5xx, a connection that broke), one call site that maps an SDK failure to the contract's
 * error, and "not found" read as absence.
 */
import { NotFoundError } from "../core/errors.js";

/** Node's and undici's codes of a connection that failed or broke on the way. */
const PASSING_NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

/** Whether an HTTP status is passing: 429 (throttled) or a 5xx. */
export const isPassingStatus = (status: number | undefined): boolean => status !== undefined && (status === 429 || status >= 500);

/** Whether an error (or the error it wraps, as fetch's do) is a broken connection. */
export function isNetworkFailure(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null | undefined;
  const code = typeof e?.code === "string" ? e.code : e?.cause?.code;
  return typeof code === "string" && PASSING_NETWORK.has(code);
}

/** Runs one SDK request; its failure is `wrap(operation, failure)`. */
export async function sdkCall<T>(
  operation: string,
  request: () => Promise<T>,
  wrap: (operation: string, cause: unknown) => Error,
): Promise<T> {
  try {
    return await request();
  } catch (cause) {
    throw wrap(operation, cause);
  }
}

/** `undefined` where `pending` fails with `NotFoundError`; any other failure as it is. */
export async function unlessNotFound<T>(pending: Promise<T>): Promise<T | undefined> {
  try {
    return await pending;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
