/**
 * The offline AWS backend with a fault proxy (faults.ts) in front of each stand-in: for
 * faasade's own reliability tests, not part of `startTestBackend`. `storage` faults reach SQS
 * and S3 (one fauxqs), `lambda` faults the Lambda test host's API.
 */
import { type AwsBackendOptions, type TestBackend, startAwsBackend } from "./backend.js";
import { type FaultProxy, startFaultProxy } from "./faults.js";

export interface FaultyBackend {
  backend: TestBackend;
  faults: { storage: FaultProxy; lambda: FaultProxy };
}

export async function startFaultyAwsBackend(options: AwsBackendOptions & { visibilitySeconds?: number }): Promise<FaultyBackend> {
  const proxies: Partial<FaultyBackend["faults"]> = {};
  const { visibilitySeconds, ...backendOptions } = options;
  const backend = await startAwsBackend(backendOptions, {
    ...(visibilitySeconds === undefined ? {} : { visibilitySeconds }),
    async front(stand, url) {
      const proxy = await startFaultProxy(url, stand);
      proxies[stand] = proxy;
      return proxy;
    },
  });
  const { storage, lambda } = proxies;
  if (storage === undefined || lambda === undefined) throw new Error("faasade: the backend started without its fault proxies");
  return { backend, faults: { storage, lambda } };
}
