// The conformance suite on the aws provider, against the offline backend that
// startTestBackend("aws") starts: fauxqs (SQS, S3), Lambda environments under aws-lambda-ric,
// the SQS poller, and function URLs served on the host.
import { startTestBackend, testProvider } from "faasade/testing";
import { afterAll } from "vitest";

// Results kept 20 s: the expiry row waits that out, and no other row may outlast it. At 3 s, the row of
// 40 spawns of 100-200 KB arguments (each result read back through S3) failed with OutputExpiredError beside
// the other test files on two cores: its first calls' results expired before gather read them.
const RETENTION_MS = 20_000;
const backend = await startTestBackend("aws", {
  module: new URL("../dist/src/testing/fixtures.js", import.meta.url),
  retentionMs: RETENTION_MS,
});
// Handles without a provider (FunctionCall.fromId, Function.lookup) reach the same backend.
Object.assign(process.env, backend.env);
afterAll(() => backend.close());

testProvider({
  name: "aws (offline backend)",
  provider: () => backend.provider,
  retentionMs: RETENTION_MS,
  webEndpoints: true,
});
