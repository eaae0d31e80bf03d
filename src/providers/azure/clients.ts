/**
 * Azure's clients, made on first use from SDKs imported lazily: Blob and Queue service clients of the storage
 * account (by connection string, or by account name with the credential), the App Service (ARM) client, and
 * the credential itself; the error every Azure call maps to. Deploy makes its own Storage (ARM) client.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { WebSiteManagementClient } from "@azure/arm-appservice";
import type { BlobServiceClient } from "@azure/storage-blob";
import type { QueueServiceClient } from "@azure/storage-queue";
import { lazyClient } from "../../cloud/lazy-client.js";
import { type SdkFailure, fieldOf, firstLine, sdkCall, statusError } from "../../cloud/sdk-errors.js";
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
  /** The storage account's name (from the connection string, or as given). */
  readonly accountName: string;
  /** Whether storage is reached with the credential (account name) rather than a connection string. */
  readonly storageByIdentity: boolean;
}

/** How an ARM client reaches Resource Manager: at `endpoints.arm`, else Azure's, trusting `ca` beside the system's CAs. */
export const armOptions = (endpoints: AzureEndpoints, ca: string | undefined) => ({
  endpoint: endpoints.arm ?? "https://management.azure.com",
  ...(ca === undefined ? {} : { tlsOptions: { ca } }),
});
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
      return new WebSiteManagementClient(await credential(), options.subscriptionId, armOptions(endpoints, ca));
    }),
  };
}

/** An Azure SDK failure's HTTP status (`RestError.statusCode`). */
export const statusOf = (cause: unknown) => fieldOf(cause, "statusCode", "number");
/** Azure's own error code: "ResourceNotFound", "QueueNotFound", "BlobAlreadyExists", ... */
export const codeOf = (cause: unknown) => fieldOf(cause, "code", "string");
export const isNotFound = (cause: unknown) => statusOf(cause) === 404;
export const isConflict = (cause: unknown) => statusOf(cause) === 409 || statusOf(cause) === 412;

/**
 * Every Azure refusal becomes the contract's error (`statusError`), named by Azure's own code: a 403 or 401
 * names what the credentials lack; a request that was never sent is passing.
 */
export function azureError(operation: string, cause: unknown): SdkFailure {
  const [status, code, said] = [statusOf(cause), codeOf(cause), firstLine(cause)];
  const named = code === undefined || said.includes(code) ? said : `${code}: ${said}`;
  const lacking = status === 403 || status === 401 ? "a role or permission for it" : undefined;
  return statusError("azure", operation, cause, { status, said: named, passing: code === "REQUEST_SEND_ERROR", lacking });
}

/** Runs one Azure request; its failure is `azureError(operation, ...)`. */
export const azureCall = <T>(operation: string, request: () => Promise<T>): Promise<T> => sdkCall(operation, request, azureError);
