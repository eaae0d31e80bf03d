// Shared by the AWS fault tests (test/aws.faults.*.test.ts): the offline backend behind fault
// proxies (`storage` in front of fauxqs, for SQS and S3; `lambda` in front of the Lambda test
// host's API), the fixture's functions on it and the runs the fixture recorded, as the
// scenarios' harness (fault-harness.ts); the counts are common.ts's.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Function_ } from "faasade";
import type * as faultsApp from "../fixtures/faults-app.mjs";
import { runsIn, until, warmUp } from "./common.js";

type FaultyModule = typeof import("../../src/testing/aws/faulty-backend.js");
type FaultyBackend = Awaited<ReturnType<FaultyModule["startFaultyAwsBackend"]>>;
const { startFaultyAwsBackend } = (await import(
  new URL("../../dist/src/testing/aws/faulty-backend.js", import.meta.url).href
)) as FaultyModule;

export type Faulty = Awaited<ReturnType<typeof startFaulty>>;

/** A backend for one test file; `visibilitySeconds` overrides the poller's (redelivery tests). */
export async function startFaulty(options: { visibilitySeconds?: number; retentionMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "faasade-faults-"));
  const log = join(dir, "runs.jsonl");
  writeFileSync(log, "");
  // Execution environments inherit this process's variables (all but AWS_*, FAASADE_*, LAMBDA_*).
  process.env.FAULTS_RUNS_LOG = log;
  const { backend, faults } = await startFaultyAwsBackend({
    module: new URL("../fixtures/faults-app.mjs", import.meta.url),
    retentionMs: options.retentionMs ?? 600_000,
    ...(options.visibilitySeconds === undefined ? {} : { visibilitySeconds: options.visibilitySeconds }),
  });
  const fn = <K extends "work" | "flaky" | "count">(name: K, provider = backend.provider) =>
    Function_.fromName<(typeof faultsApp)[K] extends Function_<infer F> ? F : never>("faults-app", name, { provider });
  const proxies: Record<string, (typeof faults)["storage"]> = faults;
  const takeCounts = () => ({ ...faults.storage.takeCounts(), ...faults.lambda.takeCounts() });
  const harness = {
    backend,
    faults,
    names: { queue: "SQS", store: "S3" },
    work: fn("work"),
    flaky: fn("flaky"),
    count: fn("count"),
    runs: () => runsIn(log),
    /** Starts the function's execution environments (10, the backend's concurrency). */
    warm: () => warmUp(harness.work, 10),
    async queued() {
      const provider = await providerWith(backend, { fanOutFrom: 1 });
      return { work: fn("work", provider), close: () => provider.close() };
    },
    throttle(ms: number) {
      faults.storage.refuse({ services: ["sqs"], ms, kinds: ["throttle", "unavailable"] });
      faults.lambda.refuse({ services: ["lambda"], ops: /^Invoke/, ms, kinds: ["throttle", "unavailable"] });
    },
    stormRefuses: [/^refused:lambda:Invoke/, /^refused:sqs:SendMessageBatch$/],
    storeErrors(ms: number, ops?: RegExp) {
      faults.storage.refuse({ services: ["s3"], ms, kinds: ["unavailable", "internal"], ...(ops ? { ops } : {}) });
    },
    store: { service: "s3", runtimeWrites: /^PUT (results|map-results|chunks)$/ },
    async restart(stand: string, ms: number) {
      const proxy = proxies[stand];
      if (proxy === undefined) throw new Error(`no stand-in ${JSON.stringify(stand)} (storage, lambda)`);
      await proxy.restart(ms);
    },
    takeCounts,
    clear() {
      faults.storage.clear();
      faults.lambda.clear();
    },
    duplicates: {
      start(o: { ms: number; copies: number; delaySeconds: number }) {
        backend.takeRequestCounts();
        // SQS's copies are messages of their own: a redelivery and a duplicate look the same.
        faults.storage.duplicateSends({ ms: o.ms, copies: o.copies, delaySeconds: o.delaySeconds });
      },
      stop: () => faults.storage.clear(),
      /** Every delivery, first or copy, is received and deleted by the poller. */
      async delivered(o: { originals: number; copies: number }, _since: number, ms: number) {
        let deleted = 0;
        const n = o.originals + o.copies;
        await until(
          `${n} deliveries consumed`,
          () => {
            deleted += backend.takeRequestCounts()["sqs:DeleteMessageBatch"] ?? 0;
            return deleted >= n;
          },
          ms,
        );
      },
      counts: () => faults.storage.takeCounts(),
      copiesIn: (counts: Record<string, number>) => counts["duplicated:sqs:SendMessageBatch"] ?? 0,
    },
    async close() {
      faults.storage.clear();
      faults.lambda.clear();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Another provider on the backend (through its fault proxies), with options of its own. */
async function providerWith(backend: FaultyBackend["backend"], options: { fanOutFrom?: number }) {
  const { aws } = await import("faasade/aws");
  const env = backend.env;
  return aws({
    prefix: env.FAASADE_AWS_PREFIX as string,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    endpoints: { lambda: env.AWS_ENDPOINT_URL_LAMBDA, sqs: env.AWS_ENDPOINT_URL_SQS, s3: env.AWS_ENDPOINT_URL_S3 },
    retentionMs: 600_000,
    ...options,
  });
}

export * from "./common.js";
