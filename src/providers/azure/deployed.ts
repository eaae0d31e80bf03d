/**
 * What a deployed bundle's runtime talks to: the storage account of its app settings, by the connection the
 * queue trigger uses (`FAASADE_AZURE_STORAGE`: a connection string, or `FAASADE_AZURE_STORAGE__accountName`
 * reached with the app's managed identity), as deploy sets them.
 */
import type { RuntimeStorage } from "../../cloud/http-runtime.js";
import { blobStore } from "./blob-store.js";
import { type AzureClients, azureClients } from "./clients.js";
import { storageQueue } from "./storage-queue.js";

export function deployedStorage(env: NodeJS.ProcessEnv = process.env): AzureClients {
  const connectionString = env.FAASADE_AZURE_STORAGE;
  const accountName = env.FAASADE_AZURE_STORAGE__accountName ?? "";
  return azureClients({
    subscriptionId: env.AZURE_SUBSCRIPTION_ID ?? "",
    storage: connectionString ? { connectionString } : { accountName },
  });
}

export function deployedPlatform(sdk: AzureClients = deployedStorage()): RuntimeStorage {
  return { store: (container) => blobStore(sdk, container), queue: (name) => storageQueue(sdk, name) };
}
