// Shared by the gcp fault tests (test/gcp.faults.*.test.ts): the offline Google Cloud backend
// with fault proxies in front of the Cloud Storage and Cloud Tasks doubles, the fixture's
// functions on it and the runs the fixture recorded (the counts are common.ts's).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Function_ } from "faasade";
import type * as faultsApp from "../fixtures/gcp-faults-app.mjs";
import { runsIn, warmUp } from "./common.js";

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
  // Providers made here without one (`gcp()`: providerWith) reach the backend through its proxies.
  Object.assign(process.env, backend.env);
  const fn = <K extends Name>(name: K, provider = backend.provider) =>
    Function_.fromName<(typeof faultsApp)[K] extends Function_<infer F> ? F : never>("faults-app", name, { provider });
  return {
    backend,
    faults,
    doubles,
    fn,
    work: fn("work"),
    flaky: fn("flaky"),
    count: fn("count"),
    runs: () => runsIn(log),
    async close() {
      faults.storage.clear();
      faults.tasks.clear();
      doubles.tasks.clearDuplicates();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Another provider on the backend (through its fault proxies, from `env`), with options of its own. */
export async function providerWith(_f: FaultyGcp, options: { fanOutFrom?: number }) {
  const { gcp } = await import("faasade/gcp");
  return gcp({ retentionMs: 600_000, ...options });
}

/** Starts instances for `work` (its 3 × 8 slots), so that cold starts are not what a test times. */
export const warm = (f: FaultyGcp) => warmUp(f.work, 24);

export * from "./common.js";
