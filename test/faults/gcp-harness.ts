// Shared by the gcp fault tests (test/gcp.faults.*.test.ts): the offline Google Cloud backend
// with fault proxies in front of the Cloud Storage and Cloud Tasks doubles and of the function
// host, the fixture's functions on it and the runs the fixture recorded, as the scenarios'
// harness (fault-harness.ts); the counts are common.ts's.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Function_ } from "faasade";
import type * as faultsApp from "../fixtures/gcp-faults-app.mjs";
import { runsIn, until, warmUp } from "./common.js";

type FaultyModule = typeof import("../../src/testing/gcp/faulty-backend.js");
const { startFaultyGcpBackend } = (await import(
  new URL("../../dist/src/testing/gcp/faulty-backend.js", import.meta.url).href
)) as FaultyModule;

export type FaultyGcp = Awaited<ReturnType<typeof startFaultyGcp>>;
type Name = "work" | "flaky" | "count" | "invert";

/** A backend for one test file. */
export async function startFaultyGcp(options: { retentionMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "faasade-gcp-faults-"));
  const log = join(dir, "runs.jsonl");
  writeFileSync(log, "");
  // Instances inherit this process's variables (function-host.ts), the backend's own on top.
  process.env.FAULTS_RUNS_LOG = log;
  const { backend, faults, doubles } = await startFaultyGcpBackend({
    module: new URL("../fixtures/gcp-faults-app.mjs", import.meta.url),
    retentionMs: options.retentionMs ?? 600_000,
  });
  // Providers made here without one (`gcp()`: queued) reach the backend through its proxies.
  Object.assign(process.env, backend.env);
  const fn = <K extends Name>(name: K, provider = backend.provider) =>
    Function_.fromName<(typeof faultsApp)[K] extends Function_<infer F> ? F : never>("faults-app", name, { provider });
  const proxies: Record<string, (typeof faults)["storage"]> = faults;
  /** Copies the Tasks double has delivered (and heard back from) since `since`. */
  const copiesSince = (since: number) => doubles.tasks.dispatches.filter((d) => d.copy && d.startedAt >= since).length;
  const clear = () => {
    for (const proxy of Object.values(faults)) proxy.clear();
  };
  const harness = {
    backend,
    faults,
    doubles,
    fn,
    copiesSince,
    names: { queue: "Cloud Tasks", store: "Storage" },
    work: fn("work"),
    flaky: fn("flaky"),
    count: fn("count"),
    runs: () => runsIn(log),
    /** Starts instances for `work` (its 3 × 8 slots). */
    warm: () => warmUp(harness.work, 24),
    async queued() {
      const { gcp } = await import("faasade/gcp");
      const provider = gcp({ retentionMs: 600_000, fanOutFrom: 1 });
      return { work: fn("work", provider), close: () => provider.close() };
    },
    throttle(ms: number) {
      faults.tasks.refuse({ services: ["tasks"], ms, kinds: ["throttle", "unavailable"] });
      faults.storage.refuse({ services: ["storage"], ms, kinds: ["throttle", "unavailable"] });
    },
    stormRefuses: [/^refused:tasks:CreateTask$/, /^refused:storage:/],
    storeErrors(ms: number, ops?: RegExp) {
      faults.storage.refuse({ services: ["storage"], ms, kinds: ["unavailable", "internal"], ...(ops ? { ops } : {}) });
    },
    store: { service: "storage", runtimeWrites: /^objects\.insert (results|map-results|chunks)$/ },
    async restart(stand: string, ms: number) {
      const proxy = proxies[stand];
      if (proxy === undefined) throw new Error(`no double ${JSON.stringify(stand)} (storage, tasks, functions)`);
      await proxy.restart(ms);
    },
    takeCounts: () => Object.assign({}, ...Object.values(faults).map((p) => p.takeCounts())) as Record<string, number>,
    clear,
    // A CreateTask sent twice would be de-duplicated by its name: copies are the Tasks double's own.
    duplicates: {
      start(o: { ms: number; copies: number; delaySeconds: number; asRedeliveries?: boolean }) {
        doubles.tasks.duplicate(o);
      },
      stop: () => doubles.tasks.clearDuplicates(),
      async delivered(o: { originals: number; copies: number }, since: number, ms: number) {
        await until(`${o.copies} copies delivered`, () => copiesSince(since) >= o.copies, ms);
      },
      counts: (since: number) => ({ copies: copiesSince(since) }),
      copiesIn: (counts: Record<string, number>) => counts.copies ?? 0,
    },
    async close() {
      clear();
      doubles.tasks.clearDuplicates();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

export * from "./common.js";
