/**
 * How faasade names what it makes on AWS, so that any process finds an app's resources from
 * its name alone: one bucket per app and environment, one Lambda function and one SQS queue per
 * function, and the keys inside the bucket.
 */
export interface AppRef {
  prefix: string;
  app: string;
  environment: string;
}

/** S3 bucket of an app and environment: results, call records, cancel markers, large payloads. */
export const bucketName = (r: AppRef) => `${r.prefix}-${r.environment}-${r.app}`.toLowerCase().slice(0, 63);

/** Lambda function (and SQS queue) of one function of an app. */
export const functionName = (r: AppRef, fn: string) => `${r.prefix}-${r.environment}-${r.app}-${fn}`.slice(0, 64);

/** The alias every invoke targets: provisioned concurrency hangs on it. */
export const ALIAS = "live";

export const keys = {
  manifest: "manifest.json",
  call: (callId: string) => `calls/${callId}.json`,
  result: (callId: string) => `results/${callId}.json`,
  chunk: (callId: string, n: number) => `chunks/${callId}/${String(n).padStart(8, "0")}`,
  chunks: (callId: string) => `chunks/${callId}/`,
  cancel: (callId: string) => `cancel/${callId}`,
  graph: (callId: string) => `graph/${callId}.json`,
  payload: (id: string) => `payloads/${id}`,
} as const;
