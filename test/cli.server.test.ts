// The local deployment server's commands (start, stop, logs), ls while it is stopped, and how a
// server that cannot start says why: the real CLI (dist), each test group with a FAASADE_HOME
// of its own, and no server left behind (afterAll stops each home's).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { manifestOf } from "../dist/src/core/manifest.js";
import { deployment } from "../dist/src/providers/local/deploy/client.js";
import { startFailure, startFailureReason } from "../dist/src/providers/local/deploy/start-failure.js";
import * as fixture from "./fixtures/deploy-app.mjs";

const run = promisify(execFile);
const CLI = "dist/src/cli/main.js";
const APP = "test/fixtures/deploy-app.mjs";
/** Every home made, for afterAll: what is recorded as running there is ended. */
const homes: { serverInfo(): { pid: number } | undefined }[] = [];
const children: ChildProcess[] = [];

/** A FAASADE_HOME of its own; `cli` runs the CLI against it (with node flags first when given). */
function home() {
  const dir = mkdtempSync(join(tmpdir(), "faasade-server-"));
  const env = { ...process.env, FAASADE_HOME: dir };
  const cli = async (args: string[], nodeFlags: string[] = []) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [...nodeFlags, CLI, ...args], { env, timeout: 90_000 });
      return { code: 0, stdout: stdout.trim(), stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout.trim(), stderr: e.stderr };
    }
  };
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await cli([...args, "--json"]);
    expect(r.stderr).toBe("");
    return JSON.parse(r.stdout) as T;
  };
  const serverInfo = () =>
    existsSync(join(dir, "server.json"))
      ? (JSON.parse(readFileSync(join(dir, "server.json"), "utf8")) as { pid: number; port: number })
      : undefined;
  const h = { dir, env, cli, json, serverInfo, log: join(dir, "server.log") };
  homes.push(h);
  return h;
}

/** Whether `pid` runs: a zombie (exited, not reaped: this machine's init reaps nobody) does not. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return !/\) Z /.test(stat);
};

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  for (const h of homes) {
    const info = h.serverInfo();
    if (info !== undefined && alive(info.pid)) process.kill(info.pid, "SIGKILL");
  }
});

interface Started {
  started: boolean;
  pid: number;
  port: number;
  apps: number;
}

describe("faasade start and stop", () => {
  const h = home();

  it("start serves every stored app; started again, it says it runs and exits 0", async () => {
    expect((await h.cli(["deploy", APP])).code).toBe(0);
    expect((await h.cli(["stop"])).code).toBe(0);
    expect(h.serverInfo()).toBeUndefined();

    const first = await h.json<Started>("start");
    expect(first).toEqual({ started: true, pid: expect.any(Number), port: expect.any(Number), apps: 1 });
    expect(h.serverInfo()).toEqual({ pid: first.pid, port: first.port });
    expect((await h.cli(["call", "deploy-app/square", "7"])).stdout).toBe("49");

    expect(await h.json<Started>("start")).toEqual({ ...first, started: false });
    const human = await h.cli(["start"]);
    expect(human).toMatchObject({ code: 0, stderr: "" });
    expect(human.stdout).toBe(
      `the local deployment server already runs (pid ${first.pid}) on http://127.0.0.1:${first.port}, serving 1 app`,
    );
  });

  it("stop ends the process before it returns; stopped again, it says none runs and exits 0", async () => {
    const { pid } = h.serverInfo() ?? { pid: -1 };
    expect(alive(pid)).toBe(true);
    expect(await h.json("stop")).toEqual({ stopped: true, pid });
    expect(alive(pid)).toBe(false);
    expect(h.serverInfo()).toBeUndefined();
    expect(await h.json("stop")).toEqual({ stopped: false });
    const human = await h.cli(["stop"]);
    expect(human).toMatchObject({ code: 0, stdout: `no local deployment server runs (FAASADE_HOME=${h.dir})` });
  });

  it("a spawned input running when the server is stopped is handed back and runs after the next start", async () => {
    expect((await h.json<Started>("start")).started).toBe(true);
    const marker = join(h.dir, "running");
    const id = (await h.cli(["spawn", "deploy-app/slow", "3000", JSON.stringify(marker)])).stdout;
    for (let i = 0; i < 400 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(marker)).toBe(true); // running now
    const stopped = await h.cli(["stop"]);
    expect(stopped.stdout).toMatch(/^stopped the local deployment server \(pid \d+\)$/);
    expect((await h.json<Started>("start")).started).toBe(true);
    expect(JSON.parse((await h.cli(["get", id, "--json"])).stdout)).toEqual({ ms: 3000, version: 1 });
    await h.cli(["stop"]);
  });

  it("start and stop refuse another provider, naming it", async () => {
    const r = await h.cli(["start", "--provider", "aws"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("faasade: InvalidError: start drives the local deployment server: drop --provider aws");
  });
});

describe("ls while the local server is stopped", () => {
  const h = home();

  it("lists the stored apps, says the server is stopped, and changes nothing", async () => {
    expect((await h.cli(["deploy", APP])).code).toBe(0);
    await h.cli(["stop"]);
    const db = join(h.dir, "state.db");
    const before = statSync(db);
    const r = await h.cli(["ls"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout.split("\n")).toEqual([
      "the local deployment server is stopped: these apps are stored, not served (faasade start serves them)",
      "deploy-app (main)  square, slow, count, hello, upload, broken",
    ]);
    const rows = await h.json<{ app: string; serving: boolean; deployedAt: number }[]>("ls");
    expect(rows).toEqual([expect.objectContaining({ app: "deploy-app", serving: false, deployedAt: expect.any(Number) })]);
    expect(h.serverInfo()).toBeUndefined(); // ls started nothing
    expect(statSync(db).mtimeMs).toBe(before.mtimeMs);
    // SQLite's read-only reader may make the WAL's companions (empty, and as private as the database).
    for (const f of readdirSync(h.dir).filter((f) => f.startsWith("state.db-"))) {
      expect(f).toMatch(/^state\.db-(wal|shm)$/);
      expect(statSync(join(h.dir, f)).mode & 0o777).toBe(0o600);
      if (f.endsWith("-wal")) expect(statSync(join(h.dir, f)).size).toBe(0);
    }
  });

  it("lists the same apps, serving, once it runs again", async () => {
    await h.cli(["start"]);
    const rows = await h.json<{ app: string; serving: boolean }[]>("ls");
    expect(rows).toEqual([expect.objectContaining({ app: "deploy-app", serving: true })]);
    expect((await h.cli(["ls"])).stdout).toBe("deploy-app (main)  square, slow, count, hello, upload, broken");
    await h.cli(["stop"]);
  });

  it("a home that never held a deployment lists none and stays empty", async () => {
    const empty = home();
    expect(await empty.cli(["ls"])).toMatchObject({ code: 0, stdout: "no apps deployed" });
    expect(readdirSync(empty.dir)).toEqual([]);
  });
});

describe("deploy's progress", () => {
  it("says it starts the deployment server only when it starts one", async () => {
    const h = home();
    const client = deployment({ home: h.dir });
    const lines: string[] = [];
    try {
      const manifests = [manifestOf(fixture.app as never)];
      await client.deployer.deploy(APP, manifests, { log: (l) => lines.push(l) });
      expect(lines).toEqual(["starting the deployment server", "deploying deploy-app (6 functions)"]);
      lines.length = 0;
      await client.deployer.deploy(APP, manifests, { log: (l) => lines.push(l) });
      expect(lines).toEqual(["deploying deploy-app (6 functions)"]);
    } finally {
      await client.close();
      await h.cli(["stop"]);
    }
  });
});

describe("faasade logs", () => {
  const h = home();

  it("prints server.log; --json prints one JSON line per log line", async () => {
    expect((await h.cli(["start"])).code).toBe(0);
    appendFileSync(h.log, 'first line\nsecond "quoted" line\n');
    expect((await h.cli(["logs"])).stdout.split("\n").slice(-2)).toEqual(["first line", 'second "quoted" line']);
    const lines = (await h.cli(["logs", "--json"])).stdout.split("\n").map((l) => JSON.parse(l) as unknown);
    expect(lines.slice(-2)).toEqual([{ line: "first line" }, { line: 'second "quoted" line' }]);
    await h.cli(["stop"]);
  });

  it("--follow prints lines as they are written, through the log being replaced and removed, until SIGINT", async () => {
    const child = spawn(process.execPath, [CLI, "logs", "--follow", "--json"], { env: h.env, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    const seen = async (line: string) => {
      for (let i = 0; i < 400 && !out.includes(JSON.stringify({ line })); i++) await new Promise((r) => setTimeout(r, 25));
      expect(out).toContain(JSON.stringify({ line }));
    };
    await seen('second "quoted" line');
    appendFileSync(h.log, "appended\n");
    await seen("appended");
    // Rotated: renamed away (what is still written to the old file is read to its end), then made anew.
    renameSync(h.log, `${h.log}.1`);
    appendFileSync(`${h.log}.1`, "last words of the old file\n");
    writeFileSync(h.log, "a new log\n");
    await seen("a new log");
    await seen("last words of the old file");
    // Removed, then made again.
    renameSync(h.log, `${h.log}.2`);
    await new Promise((r) => setTimeout(r, 500));
    writeFileSync(h.log, "after a gap\n");
    await seen("after a gap");
    const lines = out.trim().split("\n");
    expect(lines.every((l) => typeof (JSON.parse(l) as { line: string }).line === "string")).toBe(true);
    expect(lines.filter((l) => l.includes("appended"))).toHaveLength(1); // nothing printed twice
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("without a log yet, says so and exits 0", async () => {
    const r = await home().cli(["logs"]);
    expect(r).toMatchObject({ code: 0, stdout: "" });
    expect(r.stderr).toMatch(/no server log yet: .*server\.log does not exist/);
  });
});

describe("a server that cannot start says why", () => {
  it("a missing better-sqlite3: the error names it and its install line, on one line", async () => {
    // The hooks make `better-sqlite3` unresolvable for the CLI and the server it starts (exec flags are inherited).
    const h = home();
    const flags = ["--import", "./test/fixtures/no-sqlite.mjs"];
    for (const command of [["start"], ["deploy", APP]]) {
      const r = await h.cli(command, flags);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toEqual([
        "faasade: ExecutionError: the local deployment server did not start: local deployments keep their state in SQLite: " +
          `install better-sqlite3 12 (npm i better-sqlite3@12) (the whole log: ${h.log})`,
      ]);
    }
    expect(h.serverInfo()).toBeUndefined();
  });

  it("a state database the server cannot open: the error is the server's own", async () => {
    const h = home();
    mkdirSync(join(h.dir, "state.db")); // a directory where the database file should be
    const r = await h.cli(["start"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^faasade: ExecutionError: the local deployment server did not start: EISDIR: illegal operation on a directory.*state\.db.* \(the whole log: .*server\.log\)$/,
    );
  });
});

describe("the reason of a failed start, from the server's log (contract)", () => {
  it("takes the CLI's last reported error, without its class, over everything before it", () => {
    const log = [
      "faasade: the state database /h/state.db is unreadable (SQLITE_NOTADB: file is not a database). It was moved aside",
      "faasade: ExecutionError: first",
      "some container output",
      "faasade: ExecutionError: local deployments keep their state in SQLite: install better-sqlite3 12 (npm i better-sqlite3@12)",
      "",
    ].join("\n");
    expect(startFailureReason(log)).toBe(
      "local deployments keep their state in SQLite: install better-sqlite3 12 (npm i better-sqlite3@12)",
    );
  });

  it("takes Node's uncaught error line from a crash report", () => {
    const crash =
      "file:///x/server.js:3\n  throw new TypeError('boom');\n  ^\n\nTypeError: boom\n    at file:///x/server.js:3:9\n\nNode.js v20.20.2\n";
    expect(startFailureReason(crash)).toBe("TypeError: boom");
    const missing =
      "node:internal/modules/esm/resolve:1\nError [ERR_MODULE_NOT_FOUND]: Cannot find package 'x' imported from /a.js\n    at y\n";
    expect(startFailureReason(missing)).toBe("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'x' imported from /a.js");
  });

  it("else the last line, cut to 500 characters; nothing written is said so", () => {
    expect(startFailureReason("warming up\nKilled\n")).toBe("Killed");
    expect(startFailureReason(`${"x".repeat(600)}\n`)).toBe(`${"x".repeat(500)}…`);
    expect(startFailureReason("\n \n")).toBeUndefined();
    expect(startFailure("", "/h/server.log")).toBe(
      "the local deployment server did not start and wrote nothing to /h/server.log",
    );
  });
});
