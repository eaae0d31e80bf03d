// The conformance suite on the gcp provider, against the offline backend that
// startTestBackend("gcp") starts: test doubles of Cloud Storage, Cloud Tasks (which dispatches
// each task to its function), the Cloud Functions admin API and the metadata server, and each
// function's instances under the real functions-framework, a process per instance.
import { startTestBackend, testProvider } from "faasade/testing";
import { afterAll } from "vitest";

// Results kept 10 s, so that the expiry row runs in seconds; not 3 s: the 40 large spawns of one row are read
// back after the first of them finished, and on a loaded CI machine that took longer than 3 s.
const RETENTION_MS = 10_000;
const backend = await startTestBackend("gcp", {
  module: new URL("../dist/src/testing/fixtures.js", import.meta.url),
  retentionMs: RETENTION_MS,
});
// Handles without a provider (FunctionCall.fromId, Function.lookup) reach the same backend.
Object.assign(process.env, backend.env);
afterAll(() => backend.close());

testProvider({
  name: "gcp (offline backend)",
  provider: () => backend.provider,
  retentionMs: RETENTION_MS,
  webEndpoints: true,
});
