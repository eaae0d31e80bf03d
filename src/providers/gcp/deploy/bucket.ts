/**
 * The app's bucket (one per app and environment, made and kept set up; a shared `bucket` is the
 * user's and left as it is) and faasade's objects in it: the manifest `fromName` and `destroy`
 * read, through the object store of gcs-store.ts.
 */
import { ExecutionError, NotFoundError } from "../../../core/errors.js";
import type { AppManifest } from "../../../core/manifest.js";
import { gcpCall, isNotFound } from "../clients.js";
import { gcsStore } from "../gcs-store.js";
import { type AppRef, bucketName, keyPrefixOf, keysIn, labelValue } from "../names.js";
import type { GcpDeployContext } from "./context.js";

const DAY_MS = 24 * 3600 * 1000;
/** Every prefix keysIn (src/cloud/keys.ts) writes calls under; the manifest and settings never expire. */
const EXPIRING = ["results/", "chunks/", "calls/", "graph/", "cancel/", "payloads/", "retried/", "started/", "map-results/"];

interface LifecycleRule {
  action: { type: string };
  condition: { age?: number; matchesPrefix?: string[] };
}

/** One rule: the calls' objects are deleted `ceil(retentionMs / 1 day)` days after they were written. */
export function lifecycleRules(retentionMs: number): LifecycleRule[] {
  return [{ action: { type: "Delete" }, condition: { age: Math.ceil(retentionMs / DAY_MS), matchesPrefix: EXPIRING } }];
}

export const bucketLabels = (ref: AppRef) => ({
  "faasade-app": labelValue(ref.app),
  "faasade-env": labelValue(ref.environment),
});

interface FoundBucket {
  lifecycle?: { rule?: LifecycleRule[] } | null;
  labels?: Record<string, string> | null;
}

/** What was sent: "created", the fields patched, nothing, or "shared" (the user's bucket: only checked). */
export type BucketChange = "created" | "shared" | string[];

export async function ensureBucket(ctx: GcpDeployContext, ref: AppRef): Promise<BucketChange> {
  const storage = await ctx.sdk.storage();
  const name = bucketName(ref);
  const bucket = storage.bucket(name);
  const found = await gcpCall(`get the bucket ${name}`, async () => {
    try {
      return (await bucket.getMetadata())[0] as FoundBucket;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
  if (ref.bucket !== undefined) {
    if (found === undefined)
      throw new NotFoundError(`the bucket ${JSON.stringify(ref.bucket)} given to use does not exist (or is not this project's)`);
    return "shared";
  }
  const rules = lifecycleRules(ctx.options.retentionMs);
  const labels = bucketLabels(ref);
  if (found === undefined) {
    ctx.log(`creating the bucket ${name}`);
    await gcpCall(`create the bucket ${name}`, () =>
      storage.createBucket(name, {
        location: ref.region,
        iamConfiguration: { uniformBucketLevelAccess: { enabled: true } },
        lifecycle: { rule: rules },
        labels,
      } as never),
    );
    return "created";
  }
  const patch: { lifecycle?: { rule: LifecycleRule[] }; labels?: Record<string, string> } = {};
  if (!sameRules(found.lifecycle?.rule ?? [], rules)) patch.lifecycle = { rule: rules };
  // Labels of the user's are kept: only faasade's are set.
  if (Object.entries(labels).some(([k, v]) => found.labels?.[k] !== v)) patch.labels = labels;
  const fields = Object.keys(patch);
  if (fields.length === 0) return [];
  ctx.log(`updating the bucket ${name} (${fields.join(", ")})`);
  await gcpCall(`patch the bucket ${name}`, () => bucket.setMetadata(patch as never));
  return fields;
}

function sameRules(a: LifecycleRule[], b: LifecycleRule[]): boolean {
  const shape = (r: LifecycleRule) =>
    `${r.action?.type} ${Number(r.condition?.age)} ${[...(r.condition?.matchesPrefix ?? [])].sort().join(",")}`;
  return a.map(shape).sort().join("\n") === b.map(shape).sort().join("\n");
}

/** Where the app's manifest is: the bucket's root, or `faasade/<env>/<app>/` in a shared one. */
export const manifestKey = (ref: AppRef) => keysIn(keyPrefixOf(ref)).manifest(ref);
const storeOf = (ctx: GcpDeployContext, ref: AppRef) => gcsStore(ctx.sdk, bucketName(ref));

/** Writes the app's manifest unless it is already there as is. */
export async function putManifest(ctx: GcpDeployContext, ref: AppRef, app: AppManifest): Promise<boolean> {
  const body = JSON.stringify(app);
  if ((await manifestText(ctx, ref)) === body) return false;
  await storeOf(ctx, ref).put(manifestKey(ref), body);
  return true;
}

/** The app's manifest, or undefined when it is not deployed (no bucket or no manifest). */
export async function readManifest(ctx: GcpDeployContext, ref: AppRef): Promise<AppManifest | undefined> {
  const text = await manifestText(ctx, ref);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as AppManifest;
  } catch (cause) {
    throw new ExecutionError(`gs://${bucketName(ref)}/${manifestKey(ref)} is not a faasade manifest (not JSON)`, { cause });
  }
}

async function manifestText(ctx: GcpDeployContext, ref: AppRef): Promise<string | undefined> {
  try {
    const bytes = await storeOf(ctx, ref).get(manifestKey(ref));
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined; // no bucket
    throw err;
  }
}

/**
 * Removes the app's objects: the whole bucket, emptied first, when it is the app's own; in a
 * shared one only `faasade/<env>/<app>/` (the calls' objects expire by the bucket's lifecycle,
 * as they do not say which app made them). The manifest goes last, so that a destroy stopped
 * half way finds the app again. A missing bucket is no error.
 */
export async function removeBucket(ctx: GcpDeployContext, ref: AppRef): Promise<void> {
  const store = storeOf(ctx, ref);
  const key = manifestKey(ref);
  const within = ref.bucket === undefined ? "" : key.slice(0, -"manifest.json".length);
  const keys: string[] = [];
  try {
    for await (const k of store.list(within)) if (k !== key) keys.push(k);
  } catch (err) {
    if (err instanceof NotFoundError) return;
    throw err;
  }
  await store.delete(keys);
  await store.delete([key]);
  if (ref.bucket !== undefined) return;
  const storage = await ctx.sdk.storage();
  const name = bucketName(ref);
  await gcpCall(`delete the bucket ${name}`, async () => {
    try {
      await storage.bucket(name).delete();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  });
}
