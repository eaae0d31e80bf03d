// The conformance suite on the azure provider, against the offline backend that startTestBackend("azure")
// starts: azurite for Blob and Queue Storage, test doubles of ARM and of the managed-identity endpoint, and
// the Functions host stand-in, which runs each function app's instances (the real @azure/functions with
// faasade's runtime) in processes of their own and dispatches its storage queue as Azure's host does.
import { startTestBackend, testProvider } from "faasade/testing";
import { afterAll } from "vitest";

// Results kept 30 s: the expiry row waits that out, and no other row may outlast it. A spawned generator's
// 1 500 values are read back from azurite, one blob each, after its call finished: at 10 s that read outlasted
// the retention beside the other test files on two cores (OutputExpiredError in CI).
const RETENTION_MS = 30_000;
const backend = await startTestBackend("azure", {
  module: new URL("../dist/src/testing/fixtures.js", import.meta.url),
  retentionMs: RETENTION_MS,
});
// Handles without a provider (FunctionCall.fromId, Function.lookup) reach the same backend.
Object.assign(process.env, backend.env);
afterAll(() => backend.close());

testProvider({
  name: "azure (offline backend)",
  provider: () => backend.provider,
  retentionMs: RETENTION_MS,
  webEndpoints: true,
  // Calls of functions whose timeout is past Azure's 230 s HTTP limit (the default 300 s) run from the
  // queue, where the host reports no worker's exit code.
  exitCodes: false,
  // Those calls pass azurite for every step (a 300-input map: about 2 000 storage requests), beside other
  // test files on two cores.
  rowTimeoutMs: 60_000,
});
