// `faasade serve --watch`: the real CLI serving an app written to a directory of the test's own,
// edited as a user would (in place, by an atomic rename, with a syntax error, with a new import),
// each test with a FAASADE_HOME of its own and its serve process killed in afterAll.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { deployFailure } from "../dist/src/cli/watch-deploy.js";

const run = promisify(execFile);
const CLI = "dist/src/cli/main.js";
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

/** A directory outside the repository where `import "faasade"` reaches this build, as in a user's project. */
function appDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(resolve("."), join(dir, "node_modules", "faasade"));
  return dir;
}

/** An app in a directory of its own: app.mjs imports its VERSION from version.mjs. */
function project() {
  const dir = appDir("faasade-watch-app-");
  writeFileSync(join(dir, "version.mjs"), "export const VERSION = 1;\n");
  writeFileSync(
    join(dir, "app.mjs"),
    `import { writeFileSync } from "node:fs";
import { App } from "faasade";
import { VERSION } from "./version.mjs";

export const app = new App("watch-app");
export const version = app.function(function version() {
  return VERSION;
});
export const slow = app.function(async function slow(ms, marker) {
  writeFileSync(marker, "");
  await new Promise((r) => setTimeout(r, ms));
  return VERSION;
});
`,
  );
  return { dir, app: join(dir, "app.mjs"), file: (name: string) => join(dir, name) };
}

/** `serve --watch` of `app` under a home of its own, with what it printed so far. */
function serveWatching(app: string, ...flags: string[]) {
  const home = mkdtempSync(join(tmpdir(), "faasade-watch-home-"));
  const env = { ...process.env, FAASADE_HOME: home };
  const child = spawn(process.execPath, [CLI, "serve", "--watch", app, ...flags], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const printed = { out: "", err: "" };
  child.stdout.on("data", (c: Buffer) => (printed.out += c));
  child.stderr.on("data", (c: Buffer) => (printed.err += c));
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env, timeout: 60_000 });
      return { code: 0, stdout: stdout.trim(), stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout.trim(), stderr: e.stderr };
    }
  };
  /** Waits (generously: each deploy is a node process on a loaded machine) until `test` holds of what was printed. */
  const until = async (what: string, test: (p: typeof printed) => boolean) => {
    for (let i = 0; i < 1200 && !test(printed); i++) await new Promise((r) => setTimeout(r, 25));
    if (!test(printed)) throw new Error(`serve --watch never printed ${what}; stdout:\n${printed.out}\nstderr:\n${printed.err}`);
  };
  const count = (text: string, where = printed.out) => where.split(text).length - 1;
  const stop = async () => {
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGINT");
    return exited;
  };
  return { home, printed, cli, until, count, stop };
}

describe("faasade serve --watch", () => {
  it("redeploys on a change to an imported file; a call in flight finishes on the old code, the next runs the new", async () => {
    const p = project();
    const s = serveWatching(p.app);
    await s.until("serving on", (o) => o.out.includes("serving on"));
    expect(s.printed.out).toContain("deployed watch-app (main) on local\n  version\n  slow\n");
    expect(s.printed.out).toMatch(/serving on http:\/\/127\.0\.0\.1:\d+ until Ctrl-C; watching 2 files for changes/);
    expect((await s.cli("call", "watch-app/version")).stdout).toBe("1");

    // Long enough to outlast the redeploy (a debounce and a node process) on a loaded machine.
    const marker = p.file("slow-started");
    const slow = (await s.cli("spawn", "watch-app/slow", "8000", JSON.stringify(marker))).stdout;
    for (let i = 0; i < 400 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(marker)).toBe(true);

    writeFileSync(p.file("version.mjs"), "export const VERSION = 2;\n");
    await s.until("a redeploy", (o) => s.count("redeployed watch-app (2 functions)\n", o.out) === 1);
    const inFlight = await s.cli("get", slow, "--timeout-ms", "0");
    expect(inFlight.stderr).toMatch(/TimeoutError: call fc-.* is still running/); // the redeploy happened while it ran
    expect((await s.cli("call", "watch-app/version")).stdout).toBe("2");
    expect((await s.cli("get", slow)).stdout).toBe("1");
    expect(await s.stop()).toBe(0);
    expect(s.count("redeployed")).toBe(1); // one change, one redeploy
    expect(s.printed.err).toBe("");
  });

  it("a syntax error prints the error in one line and keeps serving; a new import is watched from the next deploy on", async () => {
    const p = project();
    const s = serveWatching(p.app);
    await s.until("serving on", (o) => o.out.includes("serving on"));
    expect((await s.cli("call", "watch-app/version")).stdout).toBe("1"); // a warm container of the first code

    writeFileSync(p.file("version.mjs"), "export const VERSION = ;\n");
    await s.until("a failed redeploy", (o) => o.err.includes("failed"));
    expect(s.printed.err.trim().split("\n")).toEqual([
      `faasade: redeploy of ${p.app} failed: SyntaxError: Unexpected token ';' (at ${p.file("version.mjs")}:1); ` +
        "the code deployed before still serves",
    ]);
    expect((await s.cli("call", "watch-app/version")).stdout).toBe("1");

    // Fixed, importing a file it did not import before.
    writeFileSync(p.file("extra.mjs"), "export const VERSION = 3;\n");
    writeFileSync(p.file("version.mjs"), 'export { VERSION } from "./extra.mjs";\n');
    await s.until("the first redeploy", (o) => s.count("redeployed watch-app", o.out) === 1);
    expect((await s.cli("call", "watch-app/version")).stdout).toBe("3");
    writeFileSync(p.file("extra.mjs"), "export const VERSION = 4;\n");
    await s.until("the second redeploy", (o) => s.count("redeployed watch-app", o.out) === 2);
    expect((await s.cli("call", "watch-app/version")).stdout).toBe("4");

    // Saved as many editors save: a new file renamed over the old one.
    writeFileSync(p.file(".extra.mjs.tmp"), "export const VERSION = 5;\n");
    renameSync(p.file(".extra.mjs.tmp"), p.file("extra.mjs"));
    await s.until("the third redeploy", (o) => s.count("redeployed watch-app", o.out) === 3);
    expect((await s.cli("call", "watch-app/version")).stdout).toBe("5");
    expect(await s.stop()).toBe(0);
    expect(s.count("redeployed watch-app")).toBe(3);
  });

  it("a TypeScript app (through tsx): its extensionless imports are watched too", async () => {
    const dir = appDir("faasade-watch-ts-");
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
    writeFileSync(join(dir, "version.ts"), "export const VERSION: number = 1;\n");
    writeFileSync(
      join(dir, "app.ts"),
      `import { App } from "faasade";
import { VERSION } from "./version";

export const app = new App("watch-ts");
export const version = app.function(function version(): number {
  return VERSION;
});
`,
    );
    const s = serveWatching(join(dir, "app.ts"));
    await s.until("serving on", (o) => o.out.includes("serving on"));
    expect(s.printed.out).toContain("watching 2 files for changes");
    expect((await s.cli("call", "watch-ts/version")).stdout).toBe("1");
    writeFileSync(join(dir, "version.ts"), "export const VERSION: number = 2;\n");
    await s.until("a redeploy", (o) => o.out.includes("redeployed watch-ts (1 function)\n"));
    expect((await s.cli("call", "watch-ts/version")).stdout).toBe("2");
    expect(await s.stop()).toBe(0);
  });

  it("--json prints one JSON object per line: each deploy, each failure, and what it serves and watches", async () => {
    const p = project();
    const s = serveWatching(p.app, "--json");
    await s.until("serving", (o) => o.out.includes('"serving"'));
    writeFileSync(p.file("version.mjs"), "export const VERSION = ;\n");
    await s.until("a failure", (o) => o.out.includes('"error"'));
    writeFileSync(p.file("version.mjs"), "export const VERSION = 2;\n");
    await s.until("a redeploy", (o) => o.out.trim().split("\n").length === 4);
    expect(await s.stop()).toBe(0);
    const lines = s.printed.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const functions = [{ name: "version" }, { name: "slow" }];
    expect(lines).toEqual([
      { app: "watch-app", environment: "main", provider: "local", functions, redeploy: false },
      { serving: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), watching: [p.app, p.file("version.mjs")] },
      { error: expect.stringMatching(/^SyntaxError: Unexpected token ';' \(at .*version\.mjs:1\)$/), redeploy: true },
      { app: "watch-app", environment: "main", provider: "local", functions, redeploy: true },
    ]);
  });
});

describe("the one line of a failed deploy (contract)", () => {
  it("is the error's first stack line with the first frame in a user's file", () => {
    const stderr = [
      "faasade: TypeError: top",
      "    at file:///home/u/app/lib.mjs:2:7",
      "    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)",
      "",
    ].join("\n");
    expect(deployFailure(stderr)).toBe("TypeError: top (at /home/u/app/lib.mjs:2:7)");
  });

  it("skips frames in node_modules; folds a message of several lines; keeps a frame in parentheses", () => {
    const stderr = [
      "faasade: Error: Transform failed with 1 error:",
      '/home/u/app/app.ts:3:17: ERROR: Expected ";" but found "x"',
      "    at failureErrorWithLog (file:///home/u/app/node_modules/esbuild/lib/main.js:1:1)",
      "    at load (file:///home/u/app/src/load.mjs:10:3)",
    ].join("\n");
    expect(deployFailure(stderr)).toBe(
      'Error: Transform failed with 1 error: /home/u/app/app.ts:3:17: ERROR: Expected ";" but found "x" (at /home/u/app/src/load.mjs:10:3)',
    );
  });

  it("without a frame in a user's file: the message alone; without a report: the last line", () => {
    expect(deployFailure("faasade: NotFoundError: app.mjs exports no function of any app\n    at node:internal/x:1:1\n")).toBe(
      "NotFoundError: app.mjs exports no function of any app",
    );
    expect(deployFailure("Segmentation fault\n")).toBe("Segmentation fault");
  });
});
