// The conformance suite on the aws provider, against the offline backend that
// startTestBackend("aws") starts: fauxqs (SQS, S3), Lambda environments under aws-lambda-ric,
// the SQS poller, and function URLs served on the host.
import { startTestBackend, testProvider } from "faasade/testing";
import { afterAll } from "vitest";

// Results kept 3 s, so that the expiry row runs in seconds.
const RETENTION_MS = 3000;
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
