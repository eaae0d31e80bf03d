/**
 * The Google Cloud clients faasade uses, made on first use from SDKs imported lazily (optional
 * peer dependencies), with per-service endpoints, and the one error helper every Google call goes through.
 */
import type { v2 } from "@google-cloud/functions";
import type { Storage } from "@google-cloud/storage";
import type { CloudTasksClient } from "@google-cloud/tasks";
import type { GoogleAuth } from "google-auth-library";
import { lazyClient } from "../../cloud/lazy-client.js";
import { isNetworkFailure, isPassingStatus, sdkCall } from "../../cloud/sdk-errors.js";
import { NotFoundError, ProviderError } from "../../core/errors.js";
import { TransportError } from "../../core/transport.js";

/**
 * An auth client of google-auth-library (an `AuthClient`, or one that answers `getRequestHeaders()`
 * as stand-ins do), loose because each Google SDK bundles its own copy of that library.
 */
// biome-ignore lint/suspicious/noExplicitAny: the SDKs' AuthClient types differ by their google-auth-library copy
export type GcpAuthClient = any;

/** Where each Google API is reached; `http://127.0.0.1:<port>` for a loopback stand-in. */
export interface GcpEndpoints {
  /** Cloud Functions v2 admin API. @default https://cloudfunctions.googleapis.com */
  functions?: string | undefined;
  /** Cloud Tasks. @default https://cloudtasks.googleapis.com */
  tasks?: string | undefined;
  /** Cloud Storage JSON API. @default https://storage.googleapis.com */
  storage?: string | undefined;
  /** Cloud Run Admin API v2 (the invoker policy of a 2nd gen function's service). @default https://run.googleapis.com */
  run?: string | undefined;
}

const lazy = <T>(pkg: string, make: () => Promise<T>) => lazyClient("gcp", pkg, make);

/** gax's options for an endpoint override: REST over HTTP(S) to that host and port. */
export function gaxEndpoint(url: string | undefined): Record<string, unknown> {
  if (url === undefined) return {};
  const { protocol, hostname, port } = new URL(url);
  return { fallback: true, apiEndpoint: hostname, protocol: protocol.replace(":", ""), ...(port ? { port: Number(port) } : {}) };
}

export type GcpClientOptions = { project: string; endpoints?: GcpEndpoints | undefined; authClient?: GcpAuthClient };

/** Each client made on first use; `auth` is Google's, for ID tokens (audience: a function's URL) and the admin clients. */
export interface GcpClients {
  storage(): Promise<Storage>;
  tasks(): Promise<CloudTasksClient>;
  functions(): Promise<v2.FunctionServiceClient>;
  auth(): Promise<GoogleAuth>;
}

export function gcpClients(options: GcpClientOptions): GcpClients {
  const { project, endpoints = {}, authClient } = options;
  // Each SDK bundles its own google-auth-library: without a client given, each finds ADC itself.
  const given = authClient ? { authClient } : {};
  return {
    auth: lazy("google-auth-library", async () => {
      const { GoogleAuth } = await import("google-auth-library");
      return new GoogleAuth({ projectId: project, scopes: ["https://www.googleapis.com/auth/cloud-platform"], ...given });
    }),
    storage: lazy("@google-cloud/storage", async () => {
      const { Storage } = await import("@google-cloud/storage");
      return new Storage({
        projectId: project,
        ...(endpoints.storage ? { apiEndpoint: endpoints.storage, useAuthWithCustomEndpoint: true } : {}),
        ...given,
      });
    }),
    tasks: lazy("@google-cloud/tasks", async () => {
      const { CloudTasksClient } = await import("@google-cloud/tasks");
      return new CloudTasksClient({ projectId: project, ...gaxEndpoint(endpoints.tasks), ...given });
    }),
    functions: lazy("@google-cloud/functions", async () => {
      const { v2 } = await import("@google-cloud/functions");
      return new v2.FunctionServiceClient({ projectId: project, ...gaxEndpoint(endpoints.functions), ...given });
    }),
  };
}

/** gRPC codes of passing trouble: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const PASSING_CODES = new Set([4, 8, 10, 13, 14]);

type GoogleError = { code?: number | string; status?: number; message?: string } | undefined;
const grpcCodeOf = (err: GoogleError) => (typeof err?.code === "number" && err.code < 100 ? err.code : undefined);
const statusOf = (err: GoogleError) => (typeof err?.code === "number" && err.code >= 100 ? err.code : err?.status);

// With credentials that send through gaxios (ADC: the metadata server, a key), a refusal reaches
// us as gaxios' error with the HTTP status, not as gax's error with the gRPC code: both are read.
const answered = (cause: unknown, grpc: number, http: number) =>
  grpcCodeOf(cause as GoogleError) === grpc || statusOf(cause as GoogleError) === http;
export const isNotFound = (cause: unknown) => answered(cause, 5 /* NOT_FOUND */, 404);
export const isAlreadyExists = (cause: unknown) => answered(cause, 6 /* ALREADY_EXISTS */, 409);
const isDenied = (cause: unknown) => answered(cause, 7 /* PERMISSION_DENIED */, 403);
const isPassing = (cause: unknown) =>
  PASSING_CODES.has(grpcCodeOf(cause as GoogleError) ?? 0) ||
  isPassingStatus(statusOf(cause as GoogleError)) ||
  isNetworkFailure(cause);

/**
 * Every Google refusal becomes the contract's error naming the operation, the SDK error as its
 * cause: NOT_FOUND → `NotFoundError`, PERMISSION_DENIED → `ProviderError` naming the permission
 * Google reported; a passing one (UNAVAILABLE, 429, 5xx, a broken connection) a `TransportError`,
 * which callers ride through.
 */
export function gcpError(operation: string, cause: unknown): ProviderError | NotFoundError | TransportError {
  const said = String((cause as GoogleError)?.message ?? cause).split("\n")[0] ?? "";
  if (isPassing(cause)) return new TransportError(`gcp ${operation} failed: ${said}`, { cause });
  if (isNotFound(cause)) return new NotFoundError(`gcp ${operation}: not found: ${said}`, { cause });
  if (isDenied(cause)) {
    const permission = /permission '?([\w.]+)'?/i.exec(said)?.[1];
    return new ProviderError(
      `gcp ${operation} was refused: the credentials lack ${permission ? `the permission ${permission}` : "a permission"} (${said})`,
      { cause },
    );
  }
  return new ProviderError(`gcp ${operation} failed: ${said}`, { cause });
}

/** Runs one Google request; its failure is `gcpError(operation, ...)`. */
export const gcpCall = <T>(operation: string, request: () => Promise<T>): Promise<T> => sdkCall(operation, request, gcpError);
