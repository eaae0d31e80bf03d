/** What every cloud names an app's resources by, and how a name is fitted to a platform's narrower rules. */
import { createHash } from "node:crypto";

export interface CloudAppRef {
  prefix: string;
  app: string;
  environment: string;
  /** An existing bucket to use (shared by the provider's apps) instead of one per app. */
  bucket?: string | undefined;
}

/** Where faasade's objects go in a bucket: its root in a bucket of the app's own, "faasade/" in a shared one. */
export const keyPrefixOf = (r: { bucket?: string | undefined }) => (r.bucket === undefined ? "" : "faasade/");

/** The first `length` hex digits of the sha256 of `text`. */
export const shortHash = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);

/**
 * `text` in [a-z0-9-] within `max` characters: a name that had to change to fit, or that is too
 * long, ends in a hash of the original, so two names never meet in one.
 */
export function fittedName(text: string, max: number): string {
  const plain = text.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (plain === text && plain.length <= max) return plain;
  return `${plain.slice(0, max - 9).replace(/-+$/, "")}-${shortHash(text, 8)}`;
}
