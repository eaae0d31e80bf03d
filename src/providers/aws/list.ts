/** `faasade ls --provider aws`: the apps deployed under the prefix, from their manifests (every page listed). */
import type { AppManifest } from "../../core/manifest.js";
import type { DeployedApp } from "../../core/provider.js";
import { type ClientOptions, awsCall, clients } from "./clients.js";
import { keys } from "./names.js";
import { s3Store } from "./s3-store.js";

export async function listAws(
  options: ClientOptions & { prefix?: string | undefined; bucket?: string | undefined } = {},
): Promise<DeployedApp[]> {
  const prefix = options.prefix ?? process.env.FAASADE_AWS_PREFIX ?? "faasade";
  const shared = options.bucket ?? process.env.FAASADE_AWS_BUCKET;
  const sdk = clients(options);
  const [s3, S] = await Promise.all([sdk.s3(), import("@aws-sdk/client-s3")]);
  const read = async (bucket: string, key: string): Promise<DeployedApp | undefined> => {
    const got = await awsCall(`GetObject ${bucket}/${key}`, () => s3.send(new S.GetObjectCommand({ Bucket: bucket, Key: key })));
    const text = await got.Body?.transformToString();
    return text === undefined
      ? undefined
      : { ...(JSON.parse(text) as AppManifest), deployedAt: got.LastModified?.getTime() ?? 0 };
  };
  const out: DeployedApp[] = [];
  if (shared !== undefined) {
    // One bucket for every app: their manifests are under faasade/<env>/<app>/.
    for await (const key of s3Store(sdk, shared).list("faasade/")) {
      if (!key.endsWith("/manifest.json") || key.split("/").length !== 4) continue;
      const m = await read(shared, key);
      if (m !== undefined) out.push(m);
    }
    return out;
  }
  let token: string | undefined;
  do {
    const page = await awsCall("ListBuckets", () => s3.send(new S.ListBucketsCommand(token ? { ContinuationToken: token } : {})));
    for (const b of page.Buckets ?? []) {
      if (b.Name === undefined || !b.Name.startsWith(`${prefix}-`)) continue;
      const key = keys.manifest({ environment: "", app: "" });
      if (!(await s3Store(sdk, b.Name).has(key))) continue;
      const m = await read(b.Name, key);
      if (m !== undefined) out.push(m);
    }
    token = page.ContinuationToken;
  } while (token);
  return out;
}
