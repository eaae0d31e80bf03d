// The conformance suite on the aws provider, against the offline backend that
// startTestBackend("aws") starts: fauxqs (SQS, S3), the Lambda test host, the SQS poller.
import { startTestBackend, testProvider } from "faasade/testing";
import { afterAll } from "vitest";

// Results kept 3 s, so that the expiry row runs in seconds. (Built apart from the call: a
// backend without the retentionMs option still type-checks.)
const RETENTION_MS = 3000;
const backendOptions = { module: new URL("../dist/src/testing/fixtures.js", import.meta.url), retentionMs: RETENTION_MS };
const backend = await startTestBackend("aws", backendOptions);
// Handles without a provider (FunctionCall.fromId, Function.lookup) reach the same backend.
Object.assign(process.env, backend.env);
afterAll(() => backend.close());

// webEndpoints stays unset: the offline backend serves no function URLs.
testProvider({ name: "aws (offline backend)", provider: () => backend.provider, retentionMs: RETENTION_MS });
