/** `faasade ls --provider aws`: the apps deployed under the prefix, from their manifests. */
import type { AppManifest } from "../../core/manifest.js";
import { awsCall, clients } from "./clients.js";
import { keys } from "./names.js";

type Listed = AppManifest & { deployedAt: number };

export async function listAws(
  prefix = process.env.FAASADE_AWS_PREFIX ?? "faasade",
  sharedBucket = process.env.FAASADE_AWS_BUCKET,
): Promise<Listed[]> {
  const s3 = await clients().s3();
  const S = await import("@aws-sdk/client-s3");
  const read = async (bucket: string, key: string): Promise<Listed | undefined> => {
    const got = await s3.send(new S.GetObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    const text = await got?.Body?.transformToString();
    return text === undefined
      ? undefined
      : { ...(JSON.parse(text) as AppManifest), deployedAt: got?.LastModified?.getTime() ?? 0 };
  };
  const out: Listed[] = [];
  if (sharedBucket !== undefined) {
    // One bucket for every app: their manifests are under faasade/<env>/<app>/.
    const listed = await awsCall("ListObjectsV2", () =>
      s3.send(new S.ListObjectsV2Command({ Bucket: sharedBucket, Prefix: "faasade/" })),
    );
    for (const o of listed.Contents ?? []) {
      if (!o.Key?.endsWith("/manifest.json")) continue;
      const m = await read(sharedBucket, o.Key);
      if (m !== undefined) out.push(m);
    }
    return out;
  }
  const buckets = await awsCall("ListBuckets", () => s3.send(new S.ListBucketsCommand({})));
  for (const b of buckets.Buckets ?? []) {
    if (b.Name === undefined || !b.Name.startsWith(`${prefix}-`)) continue;
    const m = await read(b.Name, keys.manifest({ environment: "", app: "" }));
    if (m !== undefined) out.push(m);
  }
  return out;
}
