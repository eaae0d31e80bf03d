/**
 * The offline Google Cloud backend with a fault proxy (faults.ts) in front of the Cloud Storage
 * and the Cloud Tasks doubles and of the function host: for faasade's own reliability tests, not part of
 * `startTestBackend`. The app's clients (this process's provider, and `env`'s) and every
 * function instance reach the doubles through the proxies; the doubles are handed out too, for
 * the faults only they can make (a task delivered twice: `tasks.duplicate`).
 */
import { type GcpTestBackend, startGcpBackend } from "./backend.js";
import { type GcpFaultProxy, startGcpFaultProxy } from "./faults.js";
import type { StorageDouble } from "./storage-double.js";
import type { TasksDouble } from "./tasks-double.js";

export interface FaultyGcpBackend {
  backend: GcpTestBackend;
  /** `functions`: in front of the function host, so every request to a function's URL (a call, a task's delivery) passes it. */
  faults: { storage: GcpFaultProxy; tasks: GcpFaultProxy; functions: GcpFaultProxy };
  doubles: { storage: StorageDouble; tasks: TasksDouble };
}

export async function startFaultyGcpBackend(options: { module: string | URL; retentionMs: number }): Promise<FaultyGcpBackend> {
  const proxies: Partial<FaultyGcpBackend["faults"]> = {};
  let doubles: FaultyGcpBackend["doubles"] | undefined;
  const backend = await startGcpBackend(options, {
    async front(stand, url) {
      const proxy = await startGcpFaultProxy(url, stand);
      proxies[stand] = proxy;
      return proxy;
    },
    doubles: (given) => {
      doubles = given;
    },
  });
  const { storage, tasks, functions } = proxies;
  if (storage === undefined || tasks === undefined || functions === undefined || doubles === undefined)
    throw new Error("faasade: the gcp backend started without its fault proxies");
  return { backend, faults: { storage, tasks, functions }, doubles };
}
