/**
 * The offline Azure backend with a fault proxy (faults.ts) in front of azurite's Blob and Queue services
 * and of the Functions host stand-in: for faasade's own reliability tests, not part of `startTestBackend`.
 * The app's clients (this process's provider, and `env`'s), every instance and the host's queue trigger
 * reach Storage through the proxies (one storage account: Azure's throttling reaches the host too); every
 * request to a function app (a call, a stream) passes `functions`. `visibilityMs` shortens the lease the
 * queue trigger holds a running message with, so that a crashed instance's message comes back soon.
 */
import { type AzureTestBackend, startAzureBackend } from "./backend.js";
import { type AzureFaultProxy, startAzureFaultProxy } from "./faults.js";

export interface FaultyAzureBackend {
  backend: AzureTestBackend;
  faults: { blob: AzureFaultProxy; queue: AzureFaultProxy; functions: AzureFaultProxy };
}

export async function startFaultyAzureBackend(options: {
  module: string | URL;
  retentionMs: number;
  visibilityMs?: number;
}): Promise<FaultyAzureBackend> {
  const proxies: Partial<FaultyAzureBackend["faults"]> = {};
  const { visibilityMs, ...backendOptions } = options;
  const backend = await startAzureBackend(backendOptions, {
    async front(stand, url) {
      const proxy = await startAzureFaultProxy(url, stand);
      proxies[stand] = proxy;
      return proxy;
    },
    ...(visibilityMs === undefined ? {} : { host: { visibilityMs } }),
  });
  const { blob, queue, functions } = proxies;
  if (blob === undefined || queue === undefined || functions === undefined)
    throw new Error("faasade: the azure backend started without its fault proxies");
  return { backend, faults: { blob, queue, functions } };
}
