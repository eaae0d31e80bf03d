/** `faasade ls --provider aws`: the apps deployed under the prefix, from their buckets' manifests. */
import type { AppManifest } from "../local/deploy/manifest.js";
import { clients, providerError } from "./clients.js";
import { keys } from "./names.js";

export async function listAws(
  prefix = process.env.FAASADE_AWS_PREFIX ?? "faasade",
): Promise<(AppManifest & { deployedAt: number })[]> {
  const s3 = await clients().s3();
  const S = await import("@aws-sdk/client-s3");
  const buckets = await s3.send(new S.ListBucketsCommand({})).catch((err: unknown) => {
    throw providerError("ListBuckets", err);
  });
  const out: (AppManifest & { deployedAt: number })[] = [];
  for (const b of buckets.Buckets ?? []) {
    if (b.Name === undefined || !b.Name.startsWith(`${prefix}-`)) continue;
    const got = await s3.send(new S.GetObjectCommand({ Bucket: b.Name, Key: keys.manifest })).catch(() => undefined);
    const text = await got?.Body?.transformToString();
    if (text !== undefined) out.push({ ...(JSON.parse(text) as AppManifest), deployedAt: got?.LastModified?.getTime() ?? 0 });
  }
  return out;
}
