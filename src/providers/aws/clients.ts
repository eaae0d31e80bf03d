/**
 * The AWS SDK clients faasade uses, made on first use and imported lazily (the SDKs are optional
 * peer dependencies), with per-service endpoints from options or the SDK's own
 * `AWS_ENDPOINT_URL_*` variables, and the one error helper every AWS call goes through. A client
 * is handed out only once its region resolves, so a missing region is a clear `InvalidError`.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { lazyClient } from "../../cloud/lazy-client.js";
import { matching } from "../../cloud/options.js";
import { isNetworkFailure, isPassingStatus, sdkCall } from "../../cloud/sdk-errors.js";
import { InvalidError, ProviderError } from "../../core/errors.js";
import { TransportError } from "../../core/transport.js";
import { abortable } from "./call-signal.js";

export interface ClientOptions {
  /** @default the SDK's chain (AWS_REGION, profile, ...) */
  region?: string | undefined;
  /** Per-service endpoints (emulators, VPC endpoints). @default AWS_ENDPOINT_URL_<SERVICE>, else AWS's */
  endpoints?:
    | { lambda?: string | undefined; sqs?: string | undefined; s3?: string | undefined; iam?: string | undefined }
    | undefined;
  /** @default the SDK's credential chain */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

export interface Clients {
  lambda(): Promise<LambdaClient>;
  sqs(): Promise<SQSClient>;
  s3(): Promise<S3Client>;
  iam(): Promise<IAMClient>;
}

/** What every client answers before its first request: the region its config resolved. */
interface RegionConfigured {
  config: { region: () => Promise<string> };
}

/** One client per service, made on first use and handed out once its region resolves. */
const lazy = <T extends RegionConfigured>(pkg: string, make: () => Promise<T>) => lazyClient("aws", pkg, make, withRegion);

/**
 * The region through the SDK's own chain (options, AWS_REGION, the profile's config), checked
 * before the first request: without one the SDK's own error says only "Region is missing".
 */
async function withRegion<T extends RegionConfigured>(client: T): Promise<T> {
  try {
    await client.config.region();
    return client;
  } catch (cause) {
    throw noRegion(cause);
  }
}

function noRegion(cause: unknown): InvalidError {
  const profile = process.env.AWS_PROFILE;
  const sdkSays = (cause as Error | undefined)?.message;
  return new InvalidError(
    `aws: no AWS region is set${sdkSays && sdkSays !== "Region is missing" ? ` (${sdkSays})` : ""}: ` +
      `set AWS_REGION (export AWS_REGION=us-east-1), pass aws({ region: "us-east-1" }) in code, ` +
      `or give the profile a region (aws configure set region us-east-1${profile ? ` --profile ${profile}` : ""})`,
    { cause },
  );
}

/** The SDK's own switch for its notice, read when a client is made (@aws-sdk/core, emitWarningIfUnsupportedVersion). */
const NODE_NOTICE_SWITCH = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/**
 * AWS SDK v3 prints a multi-line "will require node >= 22" notice in every process on Node 20,
 * which faasade supports: switched off through the SDK's variable before any client is made,
 * unless the user set that variable (to any value) themselves.
 */
export function quietNodeVersionNotice(): void {
  if (process.env[NODE_NOTICE_SWITCH] === undefined) process.env[NODE_NOTICE_SWITCH] = "true";
}

export function clients(options: ClientOptions = {}): Clients {
  const { region } = options;
  if (region !== undefined) matching("aws", "region", region, /^[a-z0-9-]+$/, 'a region name such as "us-east-1"');
  quietNodeVersionNotice();
  const base = {
    // Spawns and maps send many requests at once: more sockets than the SDK's 50 per client.
    requestHandler: { httpAgent: { maxSockets: 256 }, httpsAgent: { maxSockets: 256 } },
    // Each command's middleware chain built once, not on every send (call-signal.ts: how a call's
    // AbortSignal still reaches its request): faasade adds no middleware to single commands.
    cacheMiddleware: true,
    ...(region ? { region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const endpoint = (service: "lambda" | "sqs" | "s3" | "iam") =>
    options.endpoints?.[service] ?? process.env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? process.env.AWS_ENDPOINT_URL;
  return {
    lambda: lazy("@aws-sdk/client-lambda", async () => {
      const { LambdaClient } = await import("@aws-sdk/client-lambda");
      const url = endpoint("lambda");
      return abortable(new LambdaClient({ ...base, ...(url ? { endpoint: url } : {}) }));
    }),
    sqs: lazy("@aws-sdk/client-sqs", async () => {
      const { SQSClient } = await import("@aws-sdk/client-sqs");
      const url = endpoint("sqs");
      return new SQSClient({ ...base, ...(url ? { endpoint: url } : {}) });
    }),
    s3: lazy("@aws-sdk/client-s3", async () => {
      const { S3Client } = await import("@aws-sdk/client-s3");
      const url = endpoint("s3");
      // Emulators and custom endpoints serve buckets by path, not by host name.
      return new S3Client({ ...base, ...(url ? { endpoint: url, forcePathStyle: true } : {}) });
    }),
    iam: lazy("@aws-sdk/client-iam", async () => {
      const { IAMClient } = await import("@aws-sdk/client-iam");
      const url = endpoint("iam");
      return new IAMClient({ ...base, ...(url ? { endpoint: url } : {}) });
    }),
  };
}

/**
 * Every AWS refusal becomes a `ProviderError` naming the operation, the SDK error as its cause;
 * a passing one (throttling, 5xx, a broken connection) a `TransportError`, which callers ride through.
 */
export function providerError(operation: string, cause: unknown): ProviderError | TransportError {
  return isPassing(cause) ? new TransportError(failed(operation, cause), { cause }) : refusal(operation, cause);
}

/** A refusal that is final whatever its kind (deploy and destroy stop at once and say why). */
export function refusal(operation: string, cause: unknown): ProviderError {
  return new ProviderError(failed(operation, cause), { cause });
}

function failed(operation: string, cause: unknown): string {
  const e = cause as { name?: string; message?: string } | undefined;
  return `aws ${operation} failed: ${e?.name ?? "Error"}: ${e?.message ?? String(cause)}`;
}

/** AWS's names for throttling and for its own passing trouble, across Lambda, SQS and S3. */
const PASSING_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
  "InternalFailure",
  "ServiceException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "EC2ThrottledException",
]);

/** Whether an SDK error is worth trying again: throttled, a 5xx, or a connection that broke. */
export function isPassing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e === null || typeof e !== "object") return false;
  return (
    PASSING_NAMES.has(e.name ?? "") ||
    e.$retryable !== undefined ||
    isPassingStatus(e.$metadata?.httpStatusCode) ||
    isNetworkFailure(e)
  );
}

/** Runs one AWS request; a refusal becomes a `ProviderError` naming `operation` (a passing one, by default, a `TransportError`). */
export const awsCall = <T>(
  operation: string,
  run: () => Promise<T>,
  wrap: (operation: string, err: unknown) => Error = providerError,
): Promise<T> => sdkCall(operation, run, wrap);

/** Whether an S3 error means "no such object" (GetObject and HeadObject say it differently). */
export function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}
