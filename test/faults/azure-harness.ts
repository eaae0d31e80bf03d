// Shared by the Azure fault tests (test/azure.faults.*.test.ts): the offline Azure backend with fault
// proxies in front of azurite's Blob and Queue services and of the Functions host stand-in, the
// fixture's functions on it and the runs the fixture recorded, as the scenarios' harness
// (fault-harness.ts); the counts are common.ts's.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Function_ } from "faasade";
import type * as faultsApp from "../fixtures/azure-faults-app.mjs";
import { runsIn, until, warmUp } from "./common.js";

type FaultyModule = typeof import("../../src/testing/azure/faulty-backend.js");
type PlatformModule = typeof import("../../src/providers/azure/platform.js");
type ArmModule = typeof import("../../src/testing/azure/arm-double.js");
const dist = (path: string) => new URL(`../../dist/src/${path}`, import.meta.url).href;
const { startFaultyAzureBackend } = (await import(dist("testing/azure/faulty-backend.js"))) as FaultyModule;
const { azureProvider } = (await import(dist("providers/azure/platform.js"))) as PlatformModule;
const { loopbackCredential } = (await import(dist("testing/azure/arm-double.js"))) as ArmModule;

export type FaultyAzure = Awaited<ReturnType<typeof startFaultyAzure>>;
type Name = "work" | "flaky" | "count";
type Backend = Awaited<ReturnType<FaultyModule["startFaultyAzureBackend"]>>["backend"];

/** A backend for one test file; `visibilityMs`: the queue trigger's lease of a running message. */
export async function startFaultyAzure(options: { retentionMs?: number; visibilityMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "faasade-azure-faults-"));
  const log = join(dir, "runs.jsonl");
  writeFileSync(log, "");
  // Instances inherit this process's variables (function-host.ts), the backend's own on top.
  process.env.FAULTS_RUNS_LOG = log;
  const { backend, faults } = await startFaultyAzureBackend({
    module: new URL("../fixtures/azure-faults-app.mjs", import.meta.url),
    retentionMs: options.retentionMs ?? 600_000,
    ...(options.visibilityMs === undefined ? {} : { visibilityMs: options.visibilityMs }),
  });
  const fn = <K extends Name>(name: K, provider = backend.provider) =>
    Function_.fromName<(typeof faultsApp)[K] extends Function_<infer F> ? F : never>("faults-app", name, { provider });
  const proxies: Record<string, (typeof faults)["blob"]> = faults;
  const clear = () => {
    for (const proxy of Object.values(faults)) proxy.clear();
  };
  const harness = {
    backend,
    faults,
    fn,
    names: { queue: "Storage Queue", store: "Blob" },
    work: fn("work"),
    flaky: fn("flaky"),
    count: fn("count"),
    runs: () => runsIn(log),
    /** Starts instances for `work` (its 3 × 8 slots). */
    warm: () => warmUp(harness.work, 24),
    async queued() {
      const provider = providerWith(backend, { fanOutFrom: 1 });
      return { work: fn("work", provider), close: () => provider.close() };
    },
    throttle(ms: number) {
      faults.queue.refuse({ services: ["queue"], ms, kinds: ["throttle", "unavailable"] });
      faults.blob.refuse({ services: ["blob"], ms, kinds: ["throttle", "unavailable"] });
    },
    stormRefuses: [/^refused:queue:Put Message$/, /^refused:blob:/],
    storeErrors(ms: number, ops?: RegExp) {
      faults.blob.refuse({ services: ["blob"], ms, kinds: ["unavailable", "internal"], ...(ops ? { ops } : {}) });
    },
    store: { service: "blob", runtimeWrites: /^Put Blob (results|map-results|chunks)$/ },
    async restart(stand: string, ms: number) {
      const proxy = proxies[stand];
      if (proxy === undefined) throw new Error(`no stand-in ${JSON.stringify(stand)} (blob, queue, functions)`);
      await proxy.restart(ms);
    },
    takeCounts: () => Object.assign({}, ...Object.values(faults).map((p) => p.takeCounts())) as Record<string, number>,
    clear,
    duplicates: {
      start(o: { ms: number; copies: number; delaySeconds: number }) {
        backend.takeRequestCounts();
        // A copy is a message of its own (dequeue count 1): a redelivery and a duplicate look the same.
        faults.queue.duplicateSends({ ms: o.ms, copies: o.copies, delaySeconds: o.delaySeconds });
      },
      stop: () => faults.queue.clear(),
      /** Every delivery, first or copy, is run and deleted by the host's queue trigger. */
      async delivered(o: { originals: number; copies: number }, _since: number, ms: number) {
        let deleted = 0;
        const n = o.originals + o.copies;
        await until(
          `${n} deliveries consumed`,
          () => {
            deleted += backend.takeRequestCounts()["host:delete"] ?? 0;
            return deleted >= n;
          },
          ms,
        );
      },
      counts: () => faults.queue.takeCounts(),
      copiesIn: (counts: Record<string, number>) => counts["duplicated:queue:Put Message"] ?? 0,
    },
    async close() {
      clear();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Another provider on the backend (through its fault proxies, as `env` names them), with options of its own. */
function providerWith(backend: Backend, options: { fanOutFrom?: number }) {
  const env = backend.env;
  return azureProvider(
    {
      subscriptionId: env.AZURE_SUBSCRIPTION_ID as string,
      resourceGroup: env.FAASADE_AZURE_RESOURCE_GROUP as string,
      prefix: env.FAASADE_AZURE_PREFIX as string,
      retentionMs: 600_000,
      storage: { connectionString: env.FAASADE_AZURE_STORAGE_CONNECTION_STRING as string },
      endpoints: { arm: env.FAASADE_AZURE_ENDPOINT_ARM as string, functions: env.FAASADE_AZURE_ENDPOINT_FUNCTIONS as string },
      credential: loopbackCredential,
      ...options,
    },
    undefined,
    { ca: backend.arm.ca },
  );
}

export * from "./common.js";
