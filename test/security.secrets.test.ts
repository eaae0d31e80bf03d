// No secret in what faasade prints or logs: a set of CLI commands run with --verbose (good
// calls, a failing function, refused requests, a wrong token, a rotated-away token, AWS
// commands against the offline backend with a fake secret access key), and the background
// server's server.log, searched for the deployment tokens and the AWS secret. None may appear.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestBackend } from "faasade/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest, requestBytes } from "./fixtures/deploy-harness.js";

const CLI = "dist/src/cli/main.js";
const APP = "test/fixtures/hardening-app.mjs";
/** A fake AWS secret, distinctive enough that any copy of it (or of its halves) is found. */
const AWS_SECRET = "fAkEsEcReTaCcEsSkEy0123456789wXyZ/+abcdEF";

interface Ran {
  code: number;
  out: string;
}
const run = (args: string[], env: Record<string, string | undefined>) =>
  new Promise<Ran>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 40_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });

const home = mkdtempSync(join(tmpdir(), "faasade-secrets-"));
const transcript: string[] = [];
const cli = async (args: string[], env: Record<string, string | undefined> = {}) => {
  const r = await run([...args, "--verbose"], { FAASADE_HOME: home, ...env });
  transcript.push(`$ faasade ${args.join(" ")} --verbose (exit ${r.code})\n${r.out}`);
  return r;
};
const token = () => readFileSync(join(home, "token"), "utf8").trim();
const secrets: string[] = [];

/** A home that reaches the same server with another token. */
function homeWithToken(value: string): string {
  const other = mkdtempSync(join(tmpdir(), "faasade-secrets-other-"));
  copyFileSync(join(home, "server.json"), join(other, "server.json"));
  writeFileSync(join(other, "token"), value, { mode: 0o600 });
  return other;
}

beforeAll(async () => {
  const deployed = await cli(["deploy", APP]);
  expect(deployed.code, deployed.out).toBe(0);
  secrets.push(token());
}, 60_000);
afterAll(() => {
  try {
    process.kill((JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number }).pid, "SIGTERM");
  } catch {
    // already gone
  }
});

describe("no secret in output or logs", () => {
  it("local commands, good and failing, print neither the token nor a wrong one", async () => {
    expect((await cli(["call", "hardening-app/square", "3"])).out).toContain("9");
    const failing = await cli(["call", "hardening-app/fails", '"boom"']);
    expect(failing.code).toBe(1);
    expect(failing.out).toMatch(/boom/);
    expect((await cli(["call", "hardening-app/nope"])).code).toBe(1);
    const spawned = await cli(["spawn", "hardening-app/fails", '"later"', "--json"]);
    const id = (JSON.parse(spawned.out.trim().split("\n")[0] as string) as { functionCallId: string }).functionCallId;
    expect((await cli(["get", id])).code).toBe(1);
    expect((await cli(["get", "fc-nope"])).code).toBe(1);
    expect((await cli(["warm", "hardening-app/square", "-1"])).code).toBe(1);
    expect((await cli(["ls"])).code).toBe(0);

    const wrong = "0123456789abcdef".repeat(4);
    secrets.push(wrong);
    const refused = await cli(["call", "hardening-app/square", "3"], { FAASADE_HOME: homeWithToken(wrong) });
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/refused the token/);

    const old = token();
    expect((await cli(["token", "rotate"])).code).toBe(0);
    secrets.push(token());
    const stale = await cli(["stats", "hardening-app/square"], { FAASADE_HOME: homeWithToken(old) });
    expect(stale.out).toMatch(/refused the token/);
    expect((await cli(["stats", "hardening-app/square"])).code).toBe(0);

    // Requests from outside the CLI: a wrong token on the control API and on a web endpoint with auth.
    const port = (JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { port: number }).port;
    const bad = await rawRequest(port, requestBytes("GET", "/v1/apps", { headers: { authorization: `Bearer ${wrong}` } }));
    expect(bad.status).toBe(401);
    const web = await rawRequest(
      port,
      requestBytes("GET", "/web/main/hardening-app/secret", { headers: { authorization: `Bearer ${old}` } }),
    );
    expect(web.status).toBe(401);
    transcript.push(bad.head, bad.body.toString(), web.head, web.body.toString());
  }, 90_000);

  it("AWS commands against the offline backend print no part of the secret access key", async () => {
    const backend = await startTestBackend("aws", { module: new URL("./fixtures/aws-app.mjs", import.meta.url) });
    try {
      secrets.push(AWS_SECRET);
      const env = {
        ...backend.env,
        AWS_SECRET_ACCESS_KEY: AWS_SECRET,
        AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKE",
        FAASADE_HOME: home,
      };
      expect((await cli(["call", "aws-app/square", "4", "--provider", "aws"], env)).out).toContain("16");
      expect((await cli(["call", "aws-app/fail", '"bad"', "--provider", "aws"], env)).code).toBe(1);
      expect((await cli(["call", "aws-app/nope", "--provider", "aws"], env)).code).toBe(1);
      expect((await cli(["ls", "--provider", "aws"], env)).code).toBe(0);
      // Refused: the endpoints point at a closed port.
      const closed = {
        ...env,
        AWS_ENDPOINT_URL_LAMBDA: "http://127.0.0.1:9",
        AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9",
        AWS_MAX_ATTEMPTS: "1",
      };
      // A call with a deadline: ridden through until it, then InternalFailure with the last error.
      const id = (await cli(["spawn", "aws-app/square", "4", "--provider", "aws"], env)).out.trim().split("\n")[0] as string;
      const down = await cli(["get", id, "--timeout-ms", "2000", "--provider", "aws"], closed);
      expect(down.code).toBe(1);
      expect(down.out).toMatch(/InternalFailure: .*ECONNREFUSED/);
    } finally {
      await backend.close();
    }
  }, 90_000);

  it("the transcript and server.log hold none of the secrets", () => {
    const log = existsSync(join(home, "server.log")) ? readFileSync(join(home, "server.log"), "utf8") : "";
    const all = [...transcript, log].join("\n");
    expect(transcript.length).toBeGreaterThan(15);
    expect(all).toMatch(/\n\s+at /); // --verbose did print stacks: the search covers them
    for (const secret of secrets) {
      for (const piece of [secret, secret.slice(0, 16), secret.slice(-16)]) {
        expect(all.includes(piece), `a secret (${piece.slice(0, 4)}…) appears in the output`).toBe(false);
      }
    }
  });
});
