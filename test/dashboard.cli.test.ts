// `faasade dashboard`: starts the local deployment server if none runs and prints a login URL.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), "faasade-dashboard-cli-"));
const cli = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(process.execPath, ["dist/src/cli/main.js", ...args], {
      env: { ...process.env, FAASADE_HOME: home },
      timeout: 30_000,
    });
    return { code: 0, stdout: stdout.trim(), stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout.trim(), stderr: e.stderr };
  }
};
const server = () => JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number; port: number };

afterAll(() => {
  try {
    process.kill(server().pid, "SIGTERM");
  } catch {
    // not started, or gone
  }
});

describe("faasade dashboard", () => {
  it("starts the server and prints a login URL that opens the dashboard", async () => {
    const r = await cli("dashboard", "--json");
    expect(r.code).toBe(0);
    const { url } = JSON.parse(r.stdout) as { url: string };
    const token = readFileSync(join(home, "token"), "utf8").trim();
    expect(url).toBe(`http://127.0.0.1:${server().port}/dashboard?token=${encodeURIComponent(token)}`);
    const login = await fetch(url, { redirect: "manual" });
    expect(login.status).toBe(303);
    expect(login.headers.get("set-cookie")).toContain("HttpOnly");
    expect((await fetch(url.replace(/\?.*/, ""))).status).toBe(401);
    const again = await cli("dashboard");
    expect(again.stdout).toBe(url); // the running server, the same URL
  });

  it("refuses another port than the running server's, a bad port, and an unknown provider", async () => {
    await cli("dashboard");
    const taken = await cli("dashboard", "--port", String(server().port === 1 ? 2 : server().port - 1));
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain(`already runs on port ${server().port}`);
    const bad = await cli("dashboard", "--port", "http");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--port must be a port from 1 to 65535, got "http"');
    const unknown = await cli("dashboard", "--provider", "nope");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('"nope"');
  });
});
