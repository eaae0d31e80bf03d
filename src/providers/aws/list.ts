/** `faasade ls --provider aws`: the apps of the shared bucket, or of this prefix's app buckets. */
import { listAppBuckets } from "../../cloud/apps.js";
import type { DeployedApp } from "../../core/provider.js";
import { type ClientOptions, awsCall, clients } from "./clients.js";
import { bucketName, prefixOf, sharedBucketOf } from "./names.js";
import { s3Store } from "./s3-store.js";

export type ListOptions = ClientOptions & { prefix?: string | undefined; bucket?: string | undefined };

export function listAws(options: ListOptions = {}): Promise<DeployedApp[]> {
  const prefix = prefixOf(options.prefix);
  const sdk = clients(options);
  // "faasade-" also begins the buckets of a prefix "faasade-dev": only this prefix's own are kept.
  const isOwn = (a: DeployedApp, name: string) => bucketName({ prefix, app: a.app, environment: a.environment }) === name;
  const shared = sharedBucketOf(options.bucket);
  return listAppBuckets(
    shared,
    () => appBuckets(sdk, prefix),
    (name) => s3Store(sdk, name),
    isOwn,
  );
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
