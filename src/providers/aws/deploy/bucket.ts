/** The app's bucket (made and kept set up unless a shared one is given) and faasade's objects in it. */
import { ExecutionError } from "../../../core/errors.js";
import type { AppManifest } from "../../../core/manifest.js";
import type { AutoscalerSettings } from "../../../core/provider.js";
import { refusal as providerError } from "../clients.js";
import { keysIn } from "../names.js";
import type { AppScope, DeployContext } from "./context.js";
import { read, remove, request } from "./requests.js";

/** What the bucket's lifecycle expires after `retentionDays`. */
const LIFECYCLE_PREFIXES = ["results/", "chunks/", "calls/", "graph/", "cancel/", "payloads/"];

export async function ensureBucket(
  ctx: DeployContext,
  scope: AppScope,
  region: string,
  tags: Record<string, string>,
): Promise<void> {
  const { S } = ctx;
  const { bucket, shared } = scope;
  ctx.log(`bucket ${bucket}`);
  const s3 = await ctx.sdk.s3();
  const exists = await read(`HeadBucket ${bucket}`, () => s3.send(new S.HeadBucketCommand({ Bucket: bucket })));
  // A shared bucket is the user's: it must exist, and its settings are theirs.
  if (shared !== undefined) {
    if (exists === undefined) {
      throw new ExecutionError(`the bucket ${JSON.stringify(shared)} given to use does not exist (or is not this account's)`);
    }
    return;
  }
  if (exists === undefined) {
    await request(`CreateBucket ${bucket}`, () =>
      s3.send(
        new S.CreateBucketCommand({
          Bucket: bucket,
          ...(region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
        }),
      ),
    );
  }
  // Read even after creating: a deploy stopped between these steps left a bucket without them.
  await ensureBucketTags(ctx, bucket, tags);
  await ensureLifecycle(ctx, bucket);
}

async function ensureBucketTags(ctx: DeployContext, bucket: string, tags: Record<string, string>): Promise<void> {
  const s3 = await ctx.sdk.s3();
  const current = await read(`GetBucketTagging ${bucket}`, () => s3.send(new ctx.S.GetBucketTaggingCommand({ Bucket: bucket })));
  const have = new Map((current?.TagSet ?? []).map((t) => [t.Key, t.Value]));
  if (Object.entries(tags).every(([k, v]) => have.get(k) === v)) return;
  const merged = { ...Object.fromEntries(have), ...tags };
  await request(`PutBucketTagging ${bucket}`, () =>
    s3.send(
      new ctx.S.PutBucketTaggingCommand({
        Bucket: bucket,
        Tagging: { TagSet: Object.entries(merged).map(([Key, Value]) => ({ Key: String(Key), Value: String(Value) })) },
      }),
    ),
  );
}

async function ensureLifecycle(ctx: DeployContext, bucket: string): Promise<void> {
  const s3 = await ctx.sdk.s3();
  const days = ctx.options.retentionDays ?? 7;
  const rules = LIFECYCLE_PREFIXES.map((p) => ({
    ID: `faasade-${p.slice(0, -1)}`,
    Status: "Enabled" as const,
    Filter: { Prefix: p },
    Expiration: { Days: days },
  }));
  const current = await read(`GetBucketLifecycleConfiguration ${bucket}`, () =>
    s3.send(new ctx.S.GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
  );
  const shape = (r: {
    ID?: string | undefined;
    Status?: string | undefined;
    Filter?: { Prefix?: string | undefined } | undefined;
    Expiration?: { Days?: number | undefined } | undefined;
  }) => `${r.ID} ${r.Status} ${r.Filter?.Prefix} ${r.Expiration?.Days}`;
  const same = (current?.Rules ?? []).map(shape).sort().join("\n") === rules.map(shape).sort().join("\n");
  if (same) return;
  await request(`PutBucketLifecycleConfiguration ${bucket}`, () =>
    s3.send(new ctx.S.PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } })),
  );
}

/** Writes the app's manifest (what `fromName` reads) unless it is already there as is. */
export async function putManifest(ctx: DeployContext, scope: AppScope, app: AppManifest): Promise<void> {
  const s3 = await ctx.sdk.s3();
  const body = JSON.stringify(app);
  if ((await manifestText(ctx, scope)) === body) return;
  await request(`PutObject ${scope.manifestKey}`, () =>
    s3.send(new ctx.S.PutObjectCommand({ Bucket: scope.bucket, Key: scope.manifestKey, Body: body })),
  );
}

/** The app's manifest, or undefined when it is not deployed (no bucket or no manifest). */
export async function readManifest(ctx: DeployContext, scope: AppScope): Promise<AppManifest | undefined> {
  const text = await manifestText(ctx, scope);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as AppManifest;
  } catch (cause) {
    throw new ExecutionError(`s3://${scope.bucket}/${scope.manifestKey} is not a faasade manifest (not JSON)`, { cause });
  }
}

async function manifestText(ctx: DeployContext, scope: AppScope): Promise<string | undefined> {
  return objectText(ctx, scope.bucket, scope.manifestKey);
}

async function objectText(ctx: DeployContext, bucket: string, key: string): Promise<string | undefined> {
  const s3 = await ctx.sdk.s3();
  return read(`GetObject ${key} (bucket ${bucket})`, async () => {
    const got = await s3.send(new ctx.S.GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await got.Body?.transformToString()) ?? "";
  });
}

/** The autoscaler settings `updateAutoscaler` stored for a function, if any: they outlive redeploys, as locally. */
export async function readSettings(ctx: DeployContext, scope: AppScope, fn: string): Promise<AutoscalerSettings | undefined> {
  const key = keysIn(scope.keyPrefix).settings(scope.ref, fn);
  const text = await objectText(ctx, scope.bucket, key);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as AutoscalerSettings;
  } catch {
    return undefined; // not settings faasade wrote: the definition's apply
  }
}

export async function removeSettings(ctx: DeployContext, scope: AppScope, fn: string): Promise<void> {
  const s3 = await ctx.sdk.s3();
  const key = keysIn(scope.keyPrefix).settings(scope.ref, fn);
  await remove(`DeleteObject ${key}`, () => s3.send(new ctx.S.DeleteObjectCommand({ Bucket: scope.bucket, Key: key })));
}

/** Deletes every object under `prefix` ("" for all) but `keep`, page by page. */
export async function removeObjects(ctx: DeployContext, bucket: string, prefix: string, keep?: string): Promise<void> {
  const s3 = await ctx.sdk.s3();
  let token: string | undefined;
  do {
    const listed = await read(`ListObjectsV2 ${bucket}/${prefix}`, () =>
      s3.send(
        new ctx.S.ListObjectsV2Command({
          Bucket: bucket,
          ...(prefix === "" ? {} : { Prefix: prefix }),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      ),
    );
    if (listed === undefined) return; // no bucket: nothing in it
    const objects = (listed.Contents ?? []).flatMap((o) => (o.Key === undefined || o.Key === keep ? [] : [{ Key: o.Key }]));
    if (objects.length > 0) {
      const deleted = await request(`DeleteObjects ${bucket}/${prefix}`, () =>
        s3.send(new ctx.S.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } })),
      );
      // DeleteObjects answers 200 and lists, per object, what it could not delete.
      const failed = deleted.Errors?.[0];
      if (failed !== undefined) {
        throw providerError(`DeleteObjects ${bucket}/${failed.Key}`, { name: failed.Code, message: failed.Message });
      }
    }
    token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
  } while (token !== undefined);
}
