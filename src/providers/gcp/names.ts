/**
 * How faasade names what it makes on Google Cloud, so that any process finds an app's resources from its name alone:
 * one bucket per app and environment, one Cloud Function and one Cloud Tasks queue per function.
 */
import { type CloudAppRef, fittedName, shortHash } from "../../cloud/names.js";

export { keysIn } from "../../cloud/keys.js";
export { keyPrefixOf } from "../../cloud/names.js";

export interface AppRef extends CloudAppRef {
  project: string;
  region: string;
}

/** The function id (also its Cloud Tasks queue id) of one function of an app. */
export const functionId = (r: AppRef, fn: string) => fittedName(`${r.prefix}-${r.environment}-${r.app}-${fn}`, 63);

export const locationPath = (r: Pick<AppRef, "project" | "region">) => `projects/${r.project}/locations/${r.region}`;
export const functionPath = (r: AppRef, fn: string) => `${locationPath(r)}/functions/${functionId(r, fn)}`;
export const queuePath = (r: AppRef, fn: string) => `${locationPath(r)}/queues/${functionId(r, fn)}`;

/** The bucket of an app and environment; a hash of the project makes two projects' buckets differ (bucket names are global). */
export const bucketName = (r: AppRef) =>
  r.bucket ?? fittedName(`${r.prefix}-${r.environment}-${r.app}-${shortHash(r.project, 8)}`, 63);

/** A label value: Google allows at most 63 characters of [a-z0-9_-]. */
export const labelValue = (text: string) => fittedName(text.replace(/_/g, "-"), 63);
