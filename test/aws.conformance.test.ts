// The conformance suite on the aws provider, against the offline backend that
// startTestBackend("aws") starts: fauxqs (SQS, S3), the Lambda test host, the SQS poller.
import { startTestBackend, testProvider } from "faasade/testing";
import { afterAll } from "vitest";

const backend = await startTestBackend("aws", { module: new URL("../dist/src/testing/fixtures.js", import.meta.url) });
// Handles without a provider (FunctionCall.fromId, Function.lookup) reach the same backend.
Object.assign(process.env, backend.env);
afterAll(() => backend.close());

testProvider({ name: "aws (offline backend)", provider: () => backend.provider });
