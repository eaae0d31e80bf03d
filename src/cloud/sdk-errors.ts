/**
 * What every cloud's SDK errors share: which failures are passing (worth trying again: throttled,
 * a 5xx, a connection that broke), the contract's error for a refusal read by its HTTP status, one
 * call site that maps an SDK failure to the contract's error, and "not found" read as absence.
 */
import { NotFoundError, ProviderError } from "../core/errors.js";
import { TransportError } from "../core/transport.js";

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

/** `failure[key]` where it is there with that type (an SDK's status or code), else undefined. */
export function fieldOf(failure: unknown, key: string, type: "number"): number | undefined;
export function fieldOf(failure: unknown, key: string, type: "string"): string | undefined;
export function fieldOf(failure: unknown, key: string, type: "number" | "string"): unknown {
  const value = (failure as Record<string, unknown> | null | undefined)?.[key];
  return typeof value === type ? value : undefined;
}

/** Whether an error (or the error it wraps, as fetch's do) is a broken connection. */
export function isNetworkFailure(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null | undefined;
  const code = typeof e?.code === "string" ? e.code : e?.cause?.code;
  return typeof code === "string" && PASSING_NETWORK.has(code);
}

/** The first line of what an SDK failure says. */
export const firstLine = (cause: unknown): string =>
  String((cause as { message?: unknown } | undefined)?.message ?? cause).split("\n")[0] ?? "";

/** The contract's errors an SDK failure becomes. */
export type SdkFailure = ProviderError | NotFoundError | TransportError;

/**
 * An SDK failure as the contract's error naming the platform and the operation, the SDK error as its
 * cause: a passing one (`passing`, 429, 5xx, a broken connection) a `TransportError`, which callers ride
 * through; a 404 a `NotFoundError`; a refusal of the credentials (where `lacking` says what they lack) and
 * any other a `ProviderError`.
 */
export function statusError(
  platform: string,
  operation: string,
  cause: unknown,
  read: { status: number | undefined; said: string; passing?: boolean; lacking?: string | undefined },
): SdkFailure {
  const { status, said, lacking } = read;
  if (read.passing || isPassingStatus(status) || isNetworkFailure(cause))
    return new TransportError(`${platform} ${operation} failed: ${said}`, { cause });
  if (status === 404) return new NotFoundError(`${platform} ${operation}: not found: ${said}`, { cause });
  if (lacking !== undefined)
    return new ProviderError(`${platform} ${operation} was refused: the credentials lack ${lacking} (${said})`, { cause });
  return new ProviderError(`${platform} ${operation} failed: ${said}`, { cause });
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
