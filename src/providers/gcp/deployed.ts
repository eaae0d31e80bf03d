/**
 * What a deployed bundle's runtime talks to by default: Cloud Storage and Cloud Tasks with the
 * function's own credentials (the metadata server) and the variables deploy sets
 * (deploy/resources.ts). A queue's tasks go to the function of the same id: its URL and service
 * account are read from the Functions API once, as the client's platform does.
 */
import type { ObjectStore, Queue } from "../../cloud/primitives.js";
import { type GcpClients, gcpCall, gcpClients } from "./clients.js";
import { gcsStore } from "./gcs-store.js";
import { endpointsFromEnv } from "./options.js";
import { tasksQueue } from "./tasks-queue.js";

export function deployedPlatform(
  env: NodeJS.ProcessEnv = process.env,
  sdk: GcpClients = gcpClients({ project: env.GOOGLE_CLOUD_PROJECT ?? "", endpoints: endpointsFromEnv(env) }),
): {
  store(bucket: string): ObjectStore;
  queue(name: string): Queue;
} {
  const timeoutMs = Number(env.FAASADE_GCP_TIMEOUT_MS);
  return {
    store: (bucket) => gcsStore(sdk, bucket),
    queue: (name) => lazyQueue(sdk, name, env.FAASADE_GCP_SERVICE_ACCOUNT || undefined, timeoutMs > 0 ? timeoutMs : undefined),
  };
}

/** `projects/P/locations/R/queues/ID`, sending to `.../functions/ID`; a failed read is tried again by the next send. */
function lazyQueue(sdk: GcpClients, name: string, serviceAccount: string | undefined, timeoutMs: number | undefined): Queue {
  let made: Promise<Queue> | undefined;
  const queue = () => {
    made ??= (async () => {
      const functions = await sdk.functions();
      const fnName = name.replace("/queues/", "/functions/");
      const [fn] = await gcpCall(`GetFunction ${fnName}`, () => functions.getFunction({ name: fnName }));
      return tasksQueue(sdk, {
        queuePath: name,
        targetUrl: String(fn.url),
        serviceAccountEmail: serviceAccount ?? fn.serviceConfig?.serviceAccountEmail ?? undefined,
        functionTimeoutMs: timeoutMs,
      });
    })();
    made.catch(() => {
      made = undefined;
    });
    return made;
  };
  const limits = tasksQueue(sdk, { queuePath: name, targetUrl: "https://example.invalid/" });
  return {
    maxBatch: limits.maxBatch,
    maxBatchBytes: limits.maxBatchBytes,
    maxMessageBytes: limits.maxMessageBytes,
    maxDelayMs: limits.maxDelayMs,
    sendBatch: async (messages) => (await queue()).sendBatch(messages),
  };
}
