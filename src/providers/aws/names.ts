import { fromEnv } from "../../cloud/env.js";
import { keysIn } from "../../cloud/keys.js";
import type { CloudAppRef } from "../../cloud/names.js";
export type { Keys } from "../../cloud/keys.js";
export { keyPrefixOf } from "../../cloud/names.js";

/**
 * How faasade names what it makes on AWS, so that any process finds an app's resources from
 * its name alone: one bucket per app and environment, one Lambda function and one SQS queue per
 * function, and the keys inside the bucket.
 */
export type AppRef = CloudAppRef;

/** The prefix of every resource name: the option, else FAASADE_AWS_PREFIX, else "faasade". */
export const prefixOf = (given: string | undefined) => given ?? fromEnv("FAASADE_AWS_PREFIX") ?? "faasade";
/** The shared bucket, if any: the option, else FAASADE_AWS_BUCKET. */
export const sharedBucketOf = (given: string | undefined) => given ?? fromEnv("FAASADE_AWS_BUCKET");

/** S3 bucket of an app and environment: results, call records, cancel markers, large payloads. */
export const bucketName = (r: AppRef) => r.bucket ?? `${r.prefix}-${r.environment}-${r.app}`.toLowerCase().slice(0, 63);

/** Lambda function (and SQS queue) of one function of an app. */
export const functionName = (r: AppRef, fn: string) => `${r.prefix}-${r.environment}-${r.app}-${fn}`.slice(0, 64);

/** The execution role faasade makes for an app (when none is given). */
export const roleName = (r: AppRef) => `${r.prefix}-${r.environment}-${r.app}`;

/** The alias every invoke targets: provisioned concurrency hangs on it. */
export const ALIAS = "live";

/** Keys in a bucket (src/cloud/keys.ts): one layout for every cloud. */
export { keysIn };

/** Keys in a bucket of the app's own. */
export const keys = keysIn("");
