/**
 * How faasade names what it makes on AWS, so that any process finds an app's resources from
 * its name alone: one bucket per app and environment, one Lambda function and one SQS queue per
 * function, and the keys inside the bucket.
 */
export interface AppRef {
  prefix: string;
  app: string;
  environment: string;
  /** An existing bucket to use (shared by the provider's apps) instead of one per app. */
  bucket?: string | undefined;
}

/** S3 bucket of an app and environment: results, call records, cancel markers, large payloads. */
export const bucketName = (r: AppRef) => r.bucket ?? `${r.prefix}-${r.environment}-${r.app}`.toLowerCase().slice(0, 63);

/** Where faasade's objects go in a bucket: its root in a bucket of the app's own, "faasade/" in a shared one. */
export const keyPrefixOf = (r: { bucket?: string | undefined }) => (r.bucket === undefined ? "" : "faasade/");

/** Lambda function (and SQS queue) of one function of an app. */
export const functionName = (r: AppRef, fn: string) => `${r.prefix}-${r.environment}-${r.app}-${fn}`.slice(0, 64);

/** The execution role faasade makes for an app (when none is given). */
export const roleName = (r: AppRef) => `${r.prefix}-${r.environment}-${r.app}`;

/** The alias every invoke targets: provisioned concurrency hangs on it. */
export const ALIAS = "live";

/**
 * Keys under `prefix` (keyPrefixOf). Call ids are unique, so the calls of every app can share a
 * prefix; an app's manifest and settings are kept apart by app in a shared bucket.
 */
export function keysIn(prefix: string) {
  const own = (r: { environment: string; app: string }) => (prefix === "" ? "" : `${prefix}${r.environment}/${r.app}/`);
  return {
    manifest: (r: { environment: string; app: string }) => `${own(r)}manifest.json`,
    settings: (r: { environment: string; app: string }, fn: string) => `${own(r)}settings/${fn}.json`,
    call: (callId: string) => `${prefix}calls/${callId}.json`,
    result: (callId: string) => `${prefix}results/${callId}.json`,
    chunk: (callId: string, n: number) => `${prefix}chunks/${callId}/${String(n).padStart(8, "0")}`,
    chunks: (callId: string) => `${prefix}chunks/${callId}/`,
    cancel: (callId: string) => `${prefix}cancel/${callId}`,
    graph: (callId: string) => `${prefix}graph/${callId}.json`,
    payload: (id: string) => `${prefix}payloads/${id}`,
    /** An outcome of a map input that went through SQS, per attempt (the caller retries map inputs). */
    mapResult: (callId: string, inputId: string, attempt: number) => `${prefix}map-results/${callId}/${inputId}.${attempt}.json`,
    mapResults: (callId: string) => `${prefix}map-results/${callId}/`,
  } as const;
}
export type Keys = ReturnType<typeof keysIn>;

/** Keys in a bucket of the app's own. */
export const keys = keysIn("");
