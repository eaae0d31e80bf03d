/**
 * How deploy and destroy send requests: every one through `awsCall`, so that any refusal is a
 * `ProviderError` naming the operation. Only the platform's own "no such thing" answers mean
 * missing (a read answers undefined, a removal is done); access denied, throttling or a network
 * failure is never taken for a missing resource.
 */
import { awsCall, refusal } from "../clients.js";

/** What Lambda, IAM, SQS and S3 answer when the thing asked about does not exist. */
const NOT_FOUND = new Set([
  "ResourceNotFoundException",
  "ProvisionedConcurrencyConfigNotFoundException",
  "NoSuchEntity",
  "NoSuchEntityException",
  "QueueDoesNotExist",
  "AWS.SimpleQueueService.NonExistentQueue",
  "NotFound",
  "NoSuchKey",
  "NoSuchBucket",
  "NoSuchLifecycleConfiguration",
  "NoSuchTagSet",
]);

/** Whether an SDK error is the platform saying the resource does not exist. */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: number } } | null | undefined;
  if (e === null || typeof e !== "object") return false;
  return (
    NOT_FOUND.has(String(e.name)) ||
    NOT_FOUND.has(String(e.Code)) ||
    // S3's HEAD requests have no body to name the error: the status says it.
    e.$metadata?.httpStatusCode === 404
  );
}

/** A read: the resource, or undefined when the platform says there is none. */
export async function read<T>(operation: string, run: () => Promise<T>): Promise<T | undefined> {
  return awsCall(
    operation,
    async () => {
      try {
        return await run();
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    refusal,
  );
}

/** A removal: a resource already gone is removed. */
export async function remove(operation: string, run: () => Promise<unknown>): Promise<void> {
  await read(operation, run);
}

/** Any other request (writes, and reads of what must exist). */
export const request = <T>(operation: string, run: () => Promise<T>): Promise<T> => awsCall(operation, run, refusal);
