// `faasade token rotate`: a new token in FAASADE_HOME/token (0600, replaced whole), taken by a
// running server at once; the old one is refused from the next request on.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { homePaths, rotateToken } from "../dist/src/providers/local/deploy/home.js";
import { tokenGate } from "../dist/src/providers/local/deploy/token.js";
import { type Deployment, rawRequest, requestBytes, startDeployment } from "./fixtures/deploy-harness.js";

const CLI = "dist/src/cli/main.js";
let d: Deployment;
beforeAll(async () => {
  d = await startDeployment();
});
afterAll(() => d?.close());

const health = (token: string) =>
  rawRequest(d.port, requestBytes("GET", "/v1/health", { headers: { authorization: `Bearer ${token}` } }));
const mode = (path: string) => statSync(path).mode & 0o777;

describe("faasade token rotate", () => {
  it("replaces the token: the running server refuses the old one and accepts the new one at once", async () => {
    const old = d.token();
    expect((await health(old)).status).toBe(200);
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, "token", "rotate"], {
      env: { ...process.env, FAASADE_HOME: d.home },
    });
    expect(stderr).toBe("");
    expect(stdout.trim()).toBe(`rotated the token in ${d.paths.token}`);
    const now = d.token();
    expect(now).toMatch(/^[0-9a-f]{64}$/);
    expect(now).not.toBe(old);
    expect(stdout).not.toContain(now);
    expect((await health(old)).status).toBe(401);
    expect((await health(now)).status).toBe(200);
    expect(await d.square.remote(5)).toBe(25); // the client reads the new token from the file
  });

  it("keeps the token file 0600, the home 0700, and leaves no temporary file", () => {
    rotateToken(d.paths);
    expect(mode(d.paths.token)).toBe(0o600);
    expect(mode(d.home)).toBe(0o700);
    expect(readdirSync(d.home).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses anything but `token rotate` with a one-line error", async () => {
    const failed = await promisify(execFile)(process.execPath, [CLI, "token", "show"], {
      env: { ...process.env, FAASADE_HOME: d.home },
    }).catch((err: { code: number; stderr: string }) => err);
    expect("code" in failed && failed.code).toBe(1);
    expect(failed.stderr.trim()).toBe('faasade: InvalidError: token: expected token rotate, got "show"');
  });
});

describe("the token check", () => {
  const paths = homePaths(mkdtempSync(join(tmpdir(), "faasade-gate-")));
  const token = "a".repeat(64);
  writeFileSync(paths.token, token, { mode: 0o600 });
  const gate = tokenGate(paths, token);

  it("accepts the token alone: wrong values of any length (none, shorter, same, longer) are refused", () => {
    expect(gate.accepts(`Bearer ${token}`)).toBe(true);
    for (const wrong of ["", "a", "a".repeat(63), `${"a".repeat(63)}b`, "a".repeat(65), "a".repeat(10_000)])
      expect(gate.accepts(`Bearer ${wrong}`)).toBe(false);
    expect(gate.accepts(undefined)).toBe(false);
  });

  it("follows the file: a rotated token is accepted and the old one refused; a deleted file keeps the last one", () => {
    rotateToken(paths);
    expect(gate.accepts(`Bearer ${token}`)).toBe(false);
    const rotated = readFileSync(paths.token, "utf8");
    expect(gate.accepts(`Bearer ${rotated}`)).toBe(true);
    rmSync(paths.token);
    expect(gate.accepts(`Bearer ${rotated}`)).toBe(true);
    expect(gate.accepts("Bearer ")).toBe(false);
  });
});
