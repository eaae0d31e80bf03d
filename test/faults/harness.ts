// Shared by the AWS fault tests (test/aws.faults.*.test.ts): the offline backend behind fault
// proxies, the fixture's functions on it and the runs the fixture recorded; the counts each test
// asserts and prints are common.ts's, shared with the other clouds' fault tests.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Function_ } from "faasade";
import { runsIn, warmUp } from "./common.js";
import type * as faultsApp from "../fixtures/faults-app.mjs";

type FaultyModule = typeof import("../../src/testing/aws/faulty-backend.js");
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
  const fn = <K extends "work" | "flaky" | "count">(name: K) =>
    Function_.fromName<(typeof faultsApp)[K] extends Function_<infer F> ? F : never>("faults-app", name, {
      provider: backend.provider,
    });
  return {
    backend,
    faults,
    work: fn("work"),
    flaky: fn("flaky"),
    count: fn("count"),
    /** Runs recorded so far, by tag: the attempt of each run. */
    runs: () => runsIn(log),
    async close() {
      faults.storage.clear();
      faults.lambda.clear();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export * from "./common.js";

/** Another provider on the backend (through its fault proxies), with options of its own. */
export async function providerWith(f: Faulty, options: { fanOutFrom?: number }) {
  const { aws } = await import("faasade/aws");
  const env = f.backend.env;
  return aws({
    prefix: env.FAASADE_AWS_PREFIX as string,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    endpoints: { lambda: env.AWS_ENDPOINT_URL_LAMBDA, sqs: env.AWS_ENDPOINT_URL_SQS, s3: env.AWS_ENDPOINT_URL_S3 },
    retentionMs: 600_000,
    ...options,
  });
}

/** Starts the function's execution environments (10, the backend's concurrency), so that cold starts are not what a test times. */
export const warm = (f: Faulty) => warmUp(f.work, 10);
