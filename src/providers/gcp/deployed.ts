/**
 * What a deployed bundle's runtime talks to by default: Cloud Storage and Cloud Tasks with the
 * function's own credentials (the metadata server) and the FAASADE_* variables deploy sets
 * (deploy/resources.ts). A queue's tasks go to the function of the same id, whose URL follows
 * from the queue's path.
 */
import type { ObjectStore, Queue } from "../../cloud/primitives.js";
import { gcpClients } from "./clients.js";
import { gcsStore } from "./gcs-store.js";
import { tasksQueue } from "./tasks-queue.js";

/** `projects/P/locations/R/queues/ID` → the function ID's URL, `https://R-P.cloudfunctions.net/ID`. */
export function functionUrlOfQueue(queuePath: string): string {
  const [, project, , region, , id] = queuePath.split("/");
  return `https://${region}-${project}.cloudfunctions.net/${id}`;
}

export function deployedPlatform(env: NodeJS.ProcessEnv = process.env): {
  store(bucket: string): ObjectStore;
  queue(name: string): Queue;
} {
  const clients = gcpClients({ project: env.GOOGLE_CLOUD_PROJECT ?? "" });
  const timeoutMs = Number(env.FAASADE_GCP_TIMEOUT_MS);
  return {
    store: (bucket) => gcsStore(clients, bucket),
    queue: (name) =>
      tasksQueue(clients, {
        queuePath: name,
        targetUrl: functionUrlOfQueue(name),
        serviceAccountEmail: env.FAASADE_GCP_SERVICE_ACCOUNT || undefined,
        functionTimeoutMs: timeoutMs > 0 ? timeoutMs : undefined,
      }),
  };
}
