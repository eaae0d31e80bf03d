// The conformance suite against a local deployment: the fixtures deployed to a server of their
// own, reached over its control API exactly as another process would.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { deployment } from "faasade/local";
import { testProvider } from "faasade/testing";
import { afterAll, beforeAll } from "vitest";

const home = mkdtempSync(join(tmpdir(), "faasade-conformance-home-"));
// The server keeps results this long (FAASADE_RESULT_RETENTION_MS), so that the expiry row runs in seconds.
const RETENTION_MS = 4000;
// Handles without a provider (FunctionCall.fromId, Function.lookup) look here too.
process.env.FAASADE_HOME = home;

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ["dist/src/cli/main.js", "deploy", "dist/src/testing/fixtures.js"], {
    env: { ...process.env, FAASADE_HOME: home, FAASADE_RESULT_RETENTION_MS: String(RETENTION_MS) },
  });
}, 30_000);

afterAll(() => {
  const { pid } = JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number };
  process.kill(pid, "SIGTERM");
});

testProvider({
  name: "local deployment",
  provider: () => deployment({ home }),
  retentionMs: RETENTION_MS,
  webEndpoints: true,
});
