/**
 * The AWS SDK clients faasade uses, made on first use and imported lazily (the SDKs are optional
 * peer dependencies), with per-service endpoints from options or the SDK's own
 * `AWS_ENDPOINT_URL_*` variables, and the one error helper every AWS call goes through.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ExecutionError, ProviderError } from "../../core/errors.js";
import { TransportError } from "../../core/transport.js";

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

async function load<T>(name: string, get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (cause) {
    throw new ExecutionError(`the aws provider needs ${name}: npm i ${name}`, { cause });
  }
}

export function clients(options: ClientOptions = {}): Clients {
  const base = {
    // Spawns and maps send many requests at once: more sockets than the SDK's 50 per client.
    requestHandler: { httpAgent: { maxSockets: 256 }, httpsAgent: { maxSockets: 256 } },
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const endpoint = (service: "lambda" | "sqs" | "s3" | "iam") =>
    options.endpoints?.[service] ?? process.env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? process.env.AWS_ENDPOINT_URL;
  let lambda: Promise<LambdaClient> | undefined;
  let sqs: Promise<SQSClient> | undefined;
  let s3: Promise<S3Client> | undefined;
  let iam: Promise<IAMClient> | undefined;
  return {
    lambda: () =>
      (lambda ??= load("@aws-sdk/client-lambda", async () => {
        const { LambdaClient } = await import("@aws-sdk/client-lambda");
        const url = endpoint("lambda");
        return new LambdaClient({ ...base, ...(url ? { endpoint: url } : {}) });
      })),
    sqs: () =>
      (sqs ??= load("@aws-sdk/client-sqs", async () => {
        const { SQSClient } = await import("@aws-sdk/client-sqs");
        const url = endpoint("sqs");
        return new SQSClient({ ...base, ...(url ? { endpoint: url } : {}) });
      })),
    s3: () =>
      (s3 ??= load("@aws-sdk/client-s3", async () => {
        const { S3Client } = await import("@aws-sdk/client-s3");
        const url = endpoint("s3");
        // Emulators and custom endpoints serve buckets by path, not by host name.
        return new S3Client({ ...base, ...(url ? { endpoint: url, forcePathStyle: true } : {}) });
      })),
    iam: () =>
      (iam ??= load("@aws-sdk/client-iam", async () => {
        const { IAMClient } = await import("@aws-sdk/client-iam");
        const url = endpoint("iam");
        return new IAMClient({ ...base, ...(url ? { endpoint: url } : {}) });
      })),
  };
}

/**
 * Every AWS refusal becomes a `ProviderError` naming the operation, the SDK error as its cause;
 * a passing one (throttling, 5xx, a broken connection) a `TransportError`, which callers ride through.
 */
export function providerError(operation: string, cause: unknown): ProviderError | TransportError {
  const e = cause as { name?: string; message?: string } | undefined;
  const message = `aws ${operation} failed: ${e?.name ?? "Error"}: ${e?.message ?? String(cause)}`;
  return isPassing(cause) ? new TransportError(message, { cause }) : new ProviderError(message, { cause });
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
const PASSING_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "EAI_AGAIN"]);

/** Whether an SDK error is worth trying again: throttled, a 5xx, or a connection that broke. */
export function isPassing(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e === null || typeof e !== "object") return false;
  const status = e.$metadata?.httpStatusCode;
  return (
    PASSING_NAMES.has(e.name ?? "") ||
    PASSING_CODES.has(e.code ?? "") ||
    e.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500)
  );
}

/** Runs one AWS request; a refusal becomes a `ProviderError` naming `operation`. */
export async function awsCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw providerError(operation, err);
  }
}

/** Whether an S3 error means "no such object" (GetObject and HeadObject say it differently). */
export function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}
