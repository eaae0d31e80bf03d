/**
 * How faasade names what it makes on Google Cloud, so that any process finds an app's resources
 * from its name alone: one bucket per app and environment, one Cloud Function and one Cloud Tasks
 * queue per function. Google's rules are narrower than faasade's names (function ids are 4–63
 * characters of [a-z0-9-], bucket names are global): a name that had to change to fit, or that
 * is too long, gets a hash of the original, so two names never meet in one.
 */
import { createHash } from "node:crypto";
import { keysIn } from "../../cloud/keys.js";

export interface AppRef {
  prefix: string;
  project: string;
  region: string;
  app: string;
  environment: string;
  /** An existing bucket to use (shared by the provider's apps) instead of one per app. */
  bucket?: string | undefined;
}

const hash = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);

/** `text` in [a-z0-9-] within `max` characters; anything lost on the way is made up by a hash of the whole. */
function fitted(text: string, max: number): string {
  const plain = text.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (plain === text && plain.length <= max) return plain;
  return `${plain.slice(0, max - 9).replace(/-+$/, "")}-${hash(text, 8)}`;
}

/** The function id (also its Cloud Tasks queue id) of one function of an app. */
export const functionId = (r: AppRef, fn: string) => fitted(`${r.prefix}-${r.environment}-${r.app}-${fn}`, 63);

export const locationPath = (r: Pick<AppRef, "project" | "region">) => `projects/${r.project}/locations/${r.region}`;
export const functionPath = (r: AppRef, fn: string) => `${locationPath(r)}/functions/${functionId(r, fn)}`;
export const queuePath = (r: AppRef, fn: string) => `${locationPath(r)}/queues/${functionId(r, fn)}`;

/**
 * The bucket of an app and environment. Bucket names are global across every Google Cloud
 * project: a hash of the project makes two projects' faasade buckets differ.
 */
export const bucketName = (r: AppRef) => r.bucket ?? fitted(`${r.prefix}-${r.environment}-${r.app}-${hash(r.project, 8)}`, 63);

/** Where faasade's objects go in a bucket: its root in a bucket of the app's own, "faasade/" in a shared one. */
export const keyPrefixOf = (r: { bucket?: string | undefined }) => (r.bucket === undefined ? "" : "faasade/");

/** A label value: Google allows at most 63 characters of [a-z0-9_-]. */
export const labelValue = (text: string) => fitted(text.replace(/_/g, "-"), 63);

export { keysIn };
