/**
 * What a deployed bundle's runtime talks to, with its own credentials and the variables deploy sets (deploy/resources.ts).
 * A queue's tasks go to the function of the same id, whose URL and service account are read on the first send.
 */
import { deferredQueue } from "../../cloud/deferred-queue.js";
import type { RuntimeStorage } from "../../cloud/http-runtime.js";
import { type GcpClients, gcpClients } from "./clients.js";
import { readDeployed } from "./functions-api.js";
import { gcsStore } from "./gcs-store.js";
import { endpointsFromEnv } from "./options.js";
import { tasksQueue } from "./tasks-queue.js";

export function deployedPlatform(
  env: NodeJS.ProcessEnv = process.env,
  sdk: GcpClients = gcpClients({ project: env.GOOGLE_CLOUD_PROJECT ?? "", endpoints: endpointsFromEnv(env) }),
): RuntimeStorage {
  const serviceAccount = env.FAASADE_GCP_SERVICE_ACCOUNT || undefined;
  const timeoutMs = Number(env.FAASADE_GCP_TIMEOUT_MS);
  const functionTimeoutMs = timeoutMs > 0 ? timeoutMs : undefined;
  return {
    store: (bucket) => gcsStore(sdk, bucket),
    // `projects/P/locations/R/queues/ID`, sending to `.../functions/ID`.
    queue: (queuePath) =>
      deferredQueue(tasksQueue(sdk, { queuePath, targetUrl: "https://example.invalid/" }), async () => {
        const fn = await readDeployed(sdk, queuePath.replace("/queues/", "/functions/"));
        const serviceAccountEmail = serviceAccount ?? fn.serviceAccount;
        return tasksQueue(sdk, { queuePath, targetUrl: fn.url, serviceAccountEmail, functionTimeoutMs });
      }),
  };
}
