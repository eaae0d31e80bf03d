/**
 * What every deploy and destroy step shares: the options, the SDK clients and modules, and where
 * an app's things are (names.ts). Steps read first and write only what differs.
 */
import type { ClientOptions } from "../clients.js";
import { type Clients, clients } from "../clients.js";
import { type AppRef, bucketName, keyPrefixOf, keysIn } from "../names.js";

export interface AwsDeployOptions extends ClientOptions {
  /** @default FAASADE_AWS_PREFIX, else "faasade" */
  prefix?: string;
  /** @default "nodejs22.x" */
  runtime?: "nodejs22.x" | "nodejs20.x";
  /** @default "arm64" */
  architecture?: "arm64" | "x86_64";
  /** Memory of functions that set no `memoryMb`. @default 1024 */
  memoryMb?: number;
  /** An existing execution role to use instead of the one faasade makes. */
  roleArn?: string;
  /**
   * An existing bucket to use for every app instead of one bucket per app: faasade keeps its
   * objects under `faasade/` there and leaves the bucket's settings (lifecycle included) alone.
   * @default FAASADE_AWS_BUCKET, else a bucket per app
   */
  bucket?: string;
  /** Packages to install for Lambda instead of bundling. */
  external?: string[];
  /** Days results are kept (the bucket's lifecycle). @default 7 */
  retentionDays?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface DeployContext {
  options: AwsDeployOptions;
  sdk: Clients;
  prefix: string;
  log: (line: string) => void;
  L: typeof import("@aws-sdk/client-lambda");
  S: typeof import("@aws-sdk/client-s3");
  Q: typeof import("@aws-sdk/client-sqs");
}

export async function deployContext(options: AwsDeployOptions): Promise<DeployContext> {
  return {
    options,
    sdk: clients(options),
    prefix: options.prefix ?? process.env.FAASADE_AWS_PREFIX ?? "faasade",
    log: options.log ?? (() => {}),
    L: await import("@aws-sdk/client-lambda"),
    S: await import("@aws-sdk/client-s3"),
    Q: await import("@aws-sdk/client-sqs"),
  };
}

/** Where one app's things are: its bucket (its own, or the shared one given) and its manifest's key. */
export interface AppScope {
  ref: AppRef;
  /** The existing bucket given to use, if any. */
  shared: string | undefined;
  bucket: string;
  keyPrefix: string;
  manifestKey: string;
}

export function appScope(ctx: DeployContext, app: string, environment: string): AppScope {
  const shared = ctx.options.bucket ?? process.env.FAASADE_AWS_BUCKET;
  const ref: AppRef = { prefix: ctx.prefix, app, environment, bucket: shared };
  const keyPrefix = keyPrefixOf(ref);
  return { ref, shared, bucket: bucketName(ref), keyPrefix, manifestKey: keysIn(keyPrefix).manifest(ref) };
}
