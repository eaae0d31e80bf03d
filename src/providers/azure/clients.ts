/**
 * Azure's clients, made on first use from SDKs imported lazily: Blob and Queue service clients of the storage
 * account (by connection string, or by account name with the credential), the App Service (ARM) client, and
 * the credential itself; the error every Azure call maps to.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { WebSiteManagementClient } from "@azure/arm-appservice";
import type { StorageManagementClient } from "@azure/arm-storage";
import type { BlobServiceClient } from "@azure/storage-blob";
import type { QueueServiceClient } from "@azure/storage-queue";
import { lazyClient } from "../../cloud/lazy-client.js";
import { isNetworkFailure, isPassingStatus, sdkCall } from "../../cloud/sdk-errors.js";
import { NotFoundError, ProviderError } from "../../core/errors.js";
import { TransportError } from "../../core/transport.js";
import type { AzureEndpoints } from "./options.js";

export interface AzureClientOptions {
  subscriptionId: string;
  storage: { connectionString: string } | { accountName: string };
  credential?: TokenCredential | undefined;
  endpoints?: AzureEndpoints | undefined;
  /** A CA to trust for TLS, beside the system's (a loopback ARM stand-in's certificate). */
  ca?: string | undefined;
}

/** Each client made on first use. */
export interface AzureClients {
  credential(): Promise<TokenCredential>;
  blobs(): Promise<BlobServiceClient>;
  queues(): Promise<QueueServiceClient>;
  web(): Promise<WebSiteManagementClient>;
  storageAccounts(): Promise<StorageManagementClient>;
  /** The storage account's name (from the connection string, or as given). */
  readonly accountName: string;
  /** Whether storage is reached with the credential (account name) rather than a connection string. */
  readonly storageByIdentity: boolean;
}

const ARM = "https://management.azure.com";
/** Storage requests are tried once: a passing refusal is the core's to ride through (src/core/transport.ts), under one policy. */
const ONE_TRY = { retryOptions: { maxTries: 1 } };

/** The storage account a connection string names (azurite's well-known one for development storage). */
export function accountOf(storage: AzureClientOptions["storage"]): string {
  if ("accountName" in storage) return storage.accountName;
  if (/UseDevelopmentStorage=true/i.test(storage.connectionString)) return "devstoreaccount1";
  return /AccountName=([^;]+)/i.exec(storage.connectionString)?.[1] ?? "devstoreaccount1";
}

export function azureClients(options: AzureClientOptions): AzureClients {
  const { storage, endpoints = {}, ca } = options;
  const accountName = accountOf(storage);
  const tls = ca === undefined ? {} : { tlsOptions: { ca } };
  const credential = lazyClient("azure", "@azure/identity", async () => {
    if (options.credential !== undefined) return options.credential;
    const { DefaultAzureCredential } = await import("@azure/identity");
    return new DefaultAzureCredential();
  });
  return {
    accountName,
    storageByIdentity: !("connectionString" in storage),
    credential,
    blobs: lazyClient("azure", "@azure/storage-blob", async () => {
      const { BlobServiceClient } = await import("@azure/storage-blob");
      if ("connectionString" in storage) return BlobServiceClient.fromConnectionString(storage.connectionString, ONE_TRY);
      return new BlobServiceClient(`https://${accountName}.blob.core.windows.net`, await credential(), ONE_TRY);
    }),
    queues: lazyClient("azure", "@azure/storage-queue", async () => {
      const { QueueServiceClient } = await import("@azure/storage-queue");
      if ("connectionString" in storage) return QueueServiceClient.fromConnectionString(storage.connectionString, ONE_TRY);
      return new QueueServiceClient(`https://${accountName}.queue.core.windows.net`, await credential(), ONE_TRY);
    }),
    web: lazyClient("azure", "@azure/arm-appservice", async () => {
      const { WebSiteManagementClient } = await import("@azure/arm-appservice");
      const endpoint = endpoints.arm ?? ARM;
      return new WebSiteManagementClient(await credential(), options.subscriptionId, { endpoint, ...tls });
    }),
    storageAccounts: lazyClient("azure", "@azure/arm-storage", async () => {
      const { StorageManagementClient } = await import("@azure/arm-storage");
      const endpoint = endpoints.arm ?? ARM;
      return new StorageManagementClient(await credential(), options.subscriptionId, { endpoint, ...tls });
    }),
  };
}

/** An Azure SDK failure's HTTP status (`RestError.statusCode`). */
export const statusOf = (cause: unknown): number | undefined => {
  const status = (cause as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === "number" ? status : undefined;
};
/** Azure's own error code: "ResourceNotFound", "QueueNotFound", "BlobAlreadyExists", ... */
export const codeOf = (cause: unknown): string | undefined => {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
};
export const isNotFound = (cause: unknown) => statusOf(cause) === 404;
export const isConflict = (cause: unknown) => statusOf(cause) === 409 || statusOf(cause) === 412;

/**
 * Every Azure refusal becomes the contract's error naming the operation, the SDK error as its cause:
 * a 404 a `NotFoundError`, a 403 a `ProviderError` naming what the credentials lack, a passing one (429,
 * 5xx, a broken connection) a `TransportError`, which callers ride through.
 */
export function azureError(operation: string, cause: unknown): ProviderError | NotFoundError | TransportError {
  const said = String((cause as { message?: unknown } | undefined)?.message ?? cause).split("\n")[0] ?? "";
  const code = codeOf(cause);
  const named = code === undefined || said.includes(code) ? said : `${code}: ${said}`;
  if (isPassingStatus(statusOf(cause)) || isNetworkFailure(cause) || code === "REQUEST_SEND_ERROR")
    return new TransportError(`azure ${operation} failed: ${named}`, { cause });
  if (isNotFound(cause)) return new NotFoundError(`azure ${operation}: not found: ${named}`, { cause });
  if (statusOf(cause) === 403 || statusOf(cause) === 401)
    return new ProviderError(`azure ${operation} was refused: the credentials lack a role or permission for it (${named})`, {
      cause,
    });
  return new ProviderError(`azure ${operation} failed: ${named}`, { cause });
}

/** Runs one Azure request; its failure is `azureError(operation, ...)`. */
export const azureCall = <T>(operation: string, request: () => Promise<T>): Promise<T> => sdkCall(operation, request, azureError);
