import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const CLI = "dist/src/cli/main.js";
const exec = async (args: string[], env: Record<string, string> = {}) => {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { env: { ...process.env, ...env }, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

describe("processes and entrypoints", () => {
  it("the quickstart runs and exits 0", async () => {
    const r = await exec(["dist/examples/quickstart.js"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("square(7) = 49");
    expect(r.stdout).toContain("sum of squares = 332833500");
    expect(r.stdout).toContain('user error:    not a number: "two"');
  });

  it.each(["map", "spawn", "retries-and-errors", "generators", "keep-warm", "cancel", "call-graph"])(
    "examples/%s.ts runs and exits 0",
    async (name) => {
      const r = await exec([`dist/examples/${name}.js`]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    },
  );

  it("localEntrypoint runs when the module is the entry, and a rejection exits non-zero", async () => {
    expect((await exec(["test/fixtures/writer-app.mjs"])).stdout).toContain("entrypoint 16");
    const failed = await exec(["test/fixtures/writer-app.mjs"], { REJECT: "1" });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("entrypoint failed on purpose");
  });

  it("a script exits by itself, but not before a spawned call it never awaited", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), "faasade-")), "marker");
    const r = await exec(["test/fixtures/no-close-main.mjs", marker]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("remote 9");
    expect(r.stdout).not.toContain("entrypoint"); // imported, not the entry
    expect(existsSync(marker)).toBe(true);
  });

  it("TypeScript modules run through tsx, in the caller and in containers", async () => {
    const r = await exec(["--import", "tsx", "test/fixtures/ts-app.ts"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("hello ts!");
  });
});

describe("CLI", () => {
  it("run <file> runs the entrypoint; run <file>::<fn> calls one function", async () => {
    expect((await exec([CLI, "run", "test/fixtures/writer-app.mjs"])).stdout).toContain("entrypoint 16");
    const r = await exec([CLI, "run", "test/fixtures/writer-app.mjs::square", "12", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("144");
    expect((await exec([CLI, "run", "test/fixtures/ts-app.ts::greet", '"cli"'])).stdout.trim()).toBe('"hello cli!"');
  });

  it("bad input gives one clear line and a non-zero exit", async () => {
    const cases: [string[], RegExp][] = [
      [["bogus"], /unknown command "bogus"/],
      [["run", "test/fixtures/writer-app.mjs::square", "{bad"], /argument 1 is not valid JSON/],
      [["run", "test/fixtures/writer-app.mjs::nope"], /exports no function named "nope"/],
      [["run", "no/such/file.mjs"], /no such file/],
      [["run", `${"é".repeat(300)}.mjs`], /InvalidError: cannot read é+…: ENAMETOOLONG: name too long/],
      [["run", "package.json/app.mjs"], /InvalidError: cannot read package.json\/app.mjs: ENOTDIR/],
      [["call", "no-such-app/fn"], /NotFoundError: no local deployment is running/],
      [["call", "not-a-ref"], /expected <app>\/<function>/],
      [["spawn", "a/b", "{bad"], /argument 1 is not valid JSON/],
      [["get"], /missing required argument "call-id"/],
      [["warm", "a/b", "-1"], /expected a container count/],
      [["ls", "--colour"], /unknown option "--colour"/],
    ];
    for (const [args, message] of cases) {
      const r = await exec([CLI, ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect((await exec([CLI, "--help"])).stdout).toContain("Usage: faasade");
  });
});
