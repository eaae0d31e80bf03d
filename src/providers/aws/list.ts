/** `faasade ls --provider aws`: the apps of the shared bucket, or of this prefix's app buckets. */
import { listApps } from "../../cloud/apps.js";
import type { DeployedApp } from "../../core/provider.js";
import { type ClientOptions, awsCall, clients } from "./clients.js";
import { s3Store } from "./s3-store.js";

export type ListOptions = ClientOptions & { prefix?: string | undefined; bucket?: string | undefined };

export async function listAws(options: ListOptions = {}): Promise<DeployedApp[]> {
  const prefix = options.prefix ?? process.env.FAASADE_AWS_PREFIX ?? "faasade";
  const shared = options.bucket ?? process.env.FAASADE_AWS_BUCKET;
  const sdk = clients(options);
  const buckets = shared !== undefined ? [shared] : await appBuckets(sdk, prefix);
  return listApps(buckets.map((name) => ({ store: s3Store(sdk, name), ref: { name, prefix: shared ? "faasade/" : "" } })));
}

/** The buckets of this prefix's apps (every page of ListBuckets). */
export async function appBuckets(sdk: ReturnType<typeof clients>, prefix: string): Promise<string[]> {
  const [s3, { ListBucketsCommand }] = await Promise.all([sdk.s3(), import("@aws-sdk/client-s3")]);
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall("ListBuckets", () => s3.send(new ListBucketsCommand(token ? { ContinuationToken: token } : {})));
    for (const b of page.Buckets ?? []) if (b.Name?.startsWith(`${prefix}-`)) out.push(b.Name);
    token = page.ContinuationToken;
  } while (token);
  return out;
}
