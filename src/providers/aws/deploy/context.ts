/**
 * What every deploy and destroy step shares: the options, the SDK clients and modules, and where
 * an app's things are (names.ts). Steps read first and write only what differs.
 */
import { optionsObject } from "../../../cloud/options.js";
import { ExecutionError, InvalidError, describe } from "../../../core/errors.js";
import type { ClientOptions } from "../clients.js";
import { type Clients, clients } from "../clients.js";
import { type AppRef, bucketName, keyPrefixOf, keysIn, prefixOf, sharedBucketOf } from "../names.js";

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
  I: typeof import("@aws-sdk/client-iam");
}

/** The options deploy and destroy take, checked: a bad value is refused before anything is sent. */
export async function deployContext(options: AwsDeployOptions): Promise<DeployContext> {
  checkDeployOptions(options);
  return {
    options,
    sdk: clients(options),
    prefix: prefixOf(options.prefix),
    log: options.log ?? (() => {}),
    L: await sdkModule("@aws-sdk/client-lambda", () => import("@aws-sdk/client-lambda")),
    S: await sdkModule("@aws-sdk/client-s3", () => import("@aws-sdk/client-s3")),
    Q: await sdkModule("@aws-sdk/client-sqs", () => import("@aws-sdk/client-sqs")),
    I: await sdkModule("@aws-sdk/client-iam", () => import("@aws-sdk/client-iam")),
  };
}

async function sdkModule<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    throw new ExecutionError(`deploying to aws needs ${name}: npm i ${name}`, { cause });
  }
}

function checkDeployOptions(o: AwsDeployOptions): void {
  optionsObject("aws deploy", o);
  const bad = (key: string, rule: string, value: unknown) =>
    new InvalidError(`aws deploy: ${key} must be ${rule}, got ${describe(value)}`);
  const int = (key: "memoryMb" | "retentionDays", min: number, max: number) => {
    const v = o[key];
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)) {
      throw bad(key, `an integer between ${min} and ${max}`, v);
    }
  };
  int("memoryMb", 128, 10_240);
  int("retentionDays", 1, 36_500);
  if (o.architecture !== undefined && o.architecture !== "arm64" && o.architecture !== "x86_64") {
    throw bad("architecture", '"arm64" or "x86_64"', o.architecture);
  }
  if (o.runtime !== undefined && o.runtime !== "nodejs22.x" && o.runtime !== "nodejs20.x") {
    throw bad("runtime", '"nodejs22.x" or "nodejs20.x"', o.runtime);
  }
  if (o.roleArn !== undefined && (typeof o.roleArn !== "string" || !/^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/.test(o.roleArn))) {
    throw bad("roleArn", "an IAM role ARN (arn:aws:iam::<account>:role/<name>)", o.roleArn);
  }
  for (const key of ["prefix", "bucket"] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== "string" || v === "")) throw bad(key, "a non-empty string", v);
  }
  if (o.external !== undefined && (!Array.isArray(o.external) || o.external.some((x) => typeof x !== "string"))) {
    throw bad("external", "an array of package names", o.external);
  }
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
  const shared = sharedBucketOf(ctx.options.bucket);
  const ref: AppRef = { prefix: ctx.prefix, app, environment, bucket: shared };
  const keyPrefix = keyPrefixOf(ref);
  return { ref, shared, bucket: bucketName(ref), keyPrefix, manifestKey: keysIn(keyPrefix).manifest(ref) };
}
