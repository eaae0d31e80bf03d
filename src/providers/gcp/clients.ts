/**
 * The Google Cloud clients faasade uses, made on first use and imported lazily (the SDKs are
 * optional peer dependencies), with per-service endpoints from options (a loopback stand-in, a
 * private endpoint), and the one error helper every Google call goes through.
 */
import type { v2 } from "@google-cloud/functions";
import type { Storage } from "@google-cloud/storage";
import type { CloudTasksClient } from "@google-cloud/tasks";
import type { GoogleAuth } from "google-auth-library";

type FunctionServiceClient = v2.FunctionServiceClient;

/**
 * An auth client of google-auth-library (an `AuthClient`, or one that answers
 * `getRequestHeaders()` as stand-ins do). Each Google SDK bundles its own copy of that library,
 * so the type is kept loose here and handed to each SDK as it is.
 */
// biome-ignore lint/suspicious/noExplicitAny: the SDKs' AuthClient types differ by their google-auth-library copy
export type GcpAuthClient = any;
import { lazyClient } from "../../cloud/lazy-client.js";
import { NotFoundError, ProviderError } from "../../core/errors.js";
import { TransportError } from "../../core/transport.js";

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

export interface GcpClientOptions {
  project: string;
  endpoints?: GcpEndpoints | undefined;
  /** @default Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server) */
  authClient?: GcpAuthClient;
}

export interface GcpClients {
  storage(): Promise<Storage>;
  tasks(): Promise<CloudTasksClient>;
  functions(): Promise<FunctionServiceClient>;
  /** Google's auth, for ID tokens (audience = a function's URL) and the admin clients. */
  auth(): Promise<GoogleAuth>;
}

const lazy = <T>(pkg: string, make: () => Promise<T>) => lazyClient("gcp", pkg, make);

/** gax's options for an endpoint override: REST over HTTP(S) to that host and port. */
export function gaxEndpoint(url: string | undefined): Record<string, unknown> {
  if (url === undefined) return {};
  const { protocol, hostname, port } = new URL(url);
  return {
    fallback: true,
    apiEndpoint: hostname,
    protocol: protocol.replace(":", ""),
    ...(port ? { port: Number(port) } : {}),
  };
}

export function gcpClients(options: GcpClientOptions): GcpClients {
  const { project, endpoints = {}, authClient } = options;
  const auth = lazy("google-auth-library", async () => {
    const { GoogleAuth } = await import("google-auth-library");
    return new GoogleAuth({
      projectId: project,
      scopes: ["https://www.googleapis.com/auth/cloud-platform"],
      ...(authClient ? { authClient } : {}),
    });
  });
  // Each SDK bundles its own google-auth-library: without a client given, each finds ADC itself.
  const given = authClient ? { authClient } : {};
  return {
    auth,
    storage: lazy("@google-cloud/storage", async () => {
      const { Storage } = await import("@google-cloud/storage");
      return new Storage({
        projectId: project,
        ...(endpoints.storage ? { apiEndpoint: endpoints.storage, useAuthWithCustomEndpoint: true } : {}),
        ...(authClient ? { authClient } : {}),
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

/** gRPC status codes (google-gax), and the HTTP statuses Cloud Storage answers with. */
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const PASSING_CODES = new Set([
  4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 13 /* INTERNAL */, 14 /* UNAVAILABLE */,
]);
const PASSING_NETWORK = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "UND_ERR_SOCKET"]);

interface GoogleError {
  code?: number | string;
  status?: number;
  message?: string;
  errors?: { reason?: string; message?: string }[];
}

const statusOf = (err: GoogleError) => (typeof err.code === "number" && err.code >= 100 ? err.code : err.status);

// With credentials that send through gaxios (ADC: the metadata server, a key), a refusal reaches
// us as gaxios' error with the HTTP status, not as gax's error with the gRPC code: both are read.
export function isNotFound(cause: unknown): boolean {
  const err = cause as GoogleError;
  return err?.code === NOT_FOUND || statusOf(err) === 404;
}

export function isAlreadyExists(cause: unknown): boolean {
  const err = cause as GoogleError;
  return err?.code === ALREADY_EXISTS || statusOf(err) === 409;
}

function isPassing(cause: unknown): boolean {
  const err = cause as GoogleError & { cause?: GoogleError };
  const http = statusOf(err);
  if (typeof err?.code === "number" && err.code < 100 && PASSING_CODES.has(err.code)) return true;
  if (http !== undefined && (http === 429 || http >= 500)) return true;
  const network = typeof err?.code === "string" ? err.code : err?.cause?.code;
  return typeof network === "string" && PASSING_NETWORK.has(network);
}

/**
 * Every Google refusal becomes the contract's error naming the operation, the SDK error as its
 * cause: NOT_FOUND → `NotFoundError`, PERMISSION_DENIED → `ProviderError` naming the permission
 * Google reported; a passing one (UNAVAILABLE, 429, 5xx, a broken connection) a `TransportError`,
 * which callers ride through.
 */
export function gcpError(operation: string, cause: unknown): ProviderError | NotFoundError | TransportError {
  const err = (cause ?? {}) as GoogleError;
  const said = String(err.message ?? cause).split("\n")[0] ?? "";
  if (isPassing(cause)) return new TransportError(`gcp ${operation} failed: ${said}`, { cause });
  if (isNotFound(cause)) return new NotFoundError(`gcp ${operation}: not found: ${said}`, { cause });
  if (err.code === PERMISSION_DENIED || statusOf(err) === 403) {
    const permission = /permission '?([\w.]+)'?/i.exec(said)?.[1];
    return new ProviderError(
      `gcp ${operation} was refused: the credentials lack ${permission ? `the permission ${permission}` : "a permission"} (${said})`,
      { cause },
    );
  }
  return new ProviderError(`gcp ${operation} failed: ${said}`, { cause });
}

/** Runs one Google request; its failure is `gcpError(operation, ...)`. */
export async function gcpCall<T>(operation: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (cause) {
    throw gcpError(operation, cause);
  }
}
