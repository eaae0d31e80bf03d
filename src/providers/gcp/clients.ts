/** Google's clients, made on first use from SDKs imported lazily, with per-service endpoints; the error every Google call maps to. */
import type { v2 } from "@google-cloud/functions";
import type { Storage } from "@google-cloud/storage";
import type { CloudTasksClient } from "@google-cloud/tasks";
import type { GoogleAuth } from "google-auth-library";
import { lazyClient } from "../../cloud/lazy-client.js";
import { type SdkFailure, firstLine, sdkCall, statusError } from "../../cloud/sdk-errors.js";

/** An auth client of google-auth-library (or a stand-in's, answering `getRequestHeaders()`); loose, as each SDK bundles its own copy. */
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
    auth: lazyClient("gcp", "google-auth-library", async () => {
      const { GoogleAuth } = await import("google-auth-library");
      return new GoogleAuth({ projectId: project, scopes: ["https://www.googleapis.com/auth/cloud-platform"], ...given });
    }),
    storage: lazyClient("gcp", "@google-cloud/storage", async () => {
      const { Storage } = await import("@google-cloud/storage");
      const at = endpoints.storage ? { apiEndpoint: endpoints.storage, useAuthWithCustomEndpoint: true } : {};
      return new Storage({ projectId: project, ...at, ...given });
    }),
    tasks: lazyClient("gcp", "@google-cloud/tasks", async () => {
      const { CloudTasksClient } = await import("@google-cloud/tasks");
      return new CloudTasksClient({ projectId: project, ...gaxEndpoint(endpoints.tasks), ...given });
    }),
    functions: lazyClient("gcp", "@google-cloud/functions", async () => {
      const { v2 } = await import("@google-cloud/functions");
      return new v2.FunctionServiceClient({ projectId: project, ...gaxEndpoint(endpoints.functions), ...given });
    }),
  };
}

/** gRPC codes (google-gax) as the HTTP status they stand for; ABORTED, a conflict worth retrying, as 503. */
const STATUS_OF_CODE: Record<number, number> = { 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 10: 503, 13: 500, 14: 503 };

// With credentials that send through gaxios (ADC: the metadata server, a key), a refusal reaches
// us as gaxios' error with the HTTP status, not as gax's error with the gRPC code: both are read.
function statusOf(cause: unknown): number | undefined {
  const err = cause as { code?: unknown; status?: number } | undefined;
  if (typeof err?.code !== "number") return err?.status;
  return err.code >= 100 ? err.code : (STATUS_OF_CODE[err.code] ?? err.status);
}
export const isNotFound = (cause: unknown) => statusOf(cause) === 404;
export const isAlreadyExists = (cause: unknown) => statusOf(cause) === 409;

/**
 * Every Google refusal becomes the contract's error (`statusError`, gRPC codes read as HTTP statuses):
 * NOT_FOUND a `NotFoundError`, PERMISSION_DENIED a `ProviderError` naming the permission Google
 * reported, UNAVAILABLE a passing `TransportError`.
 */
export function gcpError(operation: string, cause: unknown): SdkFailure {
  const [status, said] = [statusOf(cause), firstLine(cause)];
  const permission = /permission '?([\w.]+)'?/i.exec(said)?.[1];
  const lacking = permission ? `the permission ${permission}` : "a permission";
  return statusError("gcp", operation, cause, { status, said, lacking: status === 403 ? lacking : undefined });
}

/** Runs one Google request; its failure is `gcpError(operation, ...)`. */
export const gcpCall = <T>(operation: string, request: () => Promise<T>): Promise<T> => sdkCall(operation, request, gcpError);
