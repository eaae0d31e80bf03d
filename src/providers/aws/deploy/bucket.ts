/** The app's bucket (made and set up unless a shared one is given) and its manifest in it. */
import { ExecutionError } from "../../../core/errors.js";
import type { AppManifest } from "../../../core/manifest.js";
import { awsCall, isMissing, providerError } from "../clients.js";
import type { AppScope, DeployContext } from "./context.js";

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
  // A shared bucket is the user's: it must exist, and its settings are theirs.
  const haveBucket = await s3.send(new S.HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    (err: unknown) => {
      if (isMissing(err) || (err as { name?: string }).name === "NoSuchBucket") return false;
      throw providerError(`HeadBucket ${bucket}`, err);
    },
  );
  if (haveBucket) return;
  if (shared !== undefined) {
    throw new ExecutionError(`the bucket ${JSON.stringify(shared)} given to use does not exist (or is not this account's)`);
  }
  await awsCall(`CreateBucket ${bucket}`, () =>
    s3.send(
      new S.CreateBucketCommand({
        Bucket: bucket,
        ...(region === "us-east-1" ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
    ),
  );
  await awsCall("PutBucketTagging", () =>
    s3.send(
      new S.PutBucketTaggingCommand({
        Bucket: bucket,
        Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      }),
    ),
  );
  const days = ctx.options.retentionDays ?? 7;
  await awsCall("PutBucketLifecycleConfiguration", () =>
    s3.send(
      new S.PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: LIFECYCLE_PREFIXES.map((p) => ({
            ID: `faasade-${p.slice(0, -1)}`,
            Status: "Enabled",
            Filter: { Prefix: p },
            Expiration: { Days: days },
          })),
        },
      }),
    ),
  );
}

/** Writes the app's manifest (what `fromName` reads) unless it is already there as is. */
export async function putManifest(ctx: DeployContext, scope: AppScope, app: AppManifest): Promise<void> {
  const { S } = ctx;
  const s3 = await ctx.sdk.s3();
  const body = JSON.stringify(app);
  const current = await s3.send(new S.GetObjectCommand({ Bucket: scope.bucket, Key: scope.manifestKey })).then(
    async (r) => r.Body?.transformToString(),
    () => undefined,
  );
  if (current === body) return;
  await awsCall("PutObject manifest.json", () =>
    s3.send(new S.PutObjectCommand({ Bucket: scope.bucket, Key: scope.manifestKey, Body: body })),
  );
}

/** The app's manifest, or undefined when it is not deployed. */
export async function readManifest(ctx: DeployContext, scope: AppScope): Promise<AppManifest | undefined> {
  const s3 = await ctx.sdk.s3();
  return s3.send(new ctx.S.GetObjectCommand({ Bucket: scope.bucket, Key: scope.manifestKey })).then(
    async (r) => JSON.parse((await r.Body?.transformToString()) ?? "null") as AppManifest,
    () => undefined,
  );
}
