import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const CLI = "dist/src/cli/main.js";
const APP = "test/fixtures/deploy-app.mjs";

/** A FAASADE_HOME of its own, and the CLI and scripts run against it. */
function deploymentHome(extraEnv: Record<string, string> = {}) {
  const home = mkdtempSync(join(tmpdir(), "faasade-home-"));
  const env = { ...process.env, FAASADE_HOME: home, ...extraEnv };
  const exec = async (file: string, args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [file, ...args], { env, timeout: 30_000 });
      return { code: 0, stdout: stdout.trim(), stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout.trim(), stderr: e.stderr };
    }
  };
  const cli = (...args: string[]) => exec(CLI, args);
  /** Runs a module body (ESM) in a fresh node process against this home. */
  const script = (body: string, ...args: string[]) => exec("--input-type=module", ["-e", body, ...args]);
  const server = () => JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number; port: number };
  const token = () => readFileSync(join(home, "token"), "utf8").trim();
  const stop = () => {
    try {
      process.kill(server().pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  return { home, cli, script, server, token, stop };
}

describe("local deployments through the CLI", () => {
  const d = deploymentHome();
  beforeAll(async () => {
    const r = await d.cli("deploy", APP);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("deployed deploy-app (main)");
    expect(r.stdout).toMatch(/hello {2}http:\/\/127\.0\.0\.1:\d+\/web\/main\/deploy-app\/hello/);
  });
  afterAll(() => d.stop());

  it("ls lists the app and its functions", async () => {
    const r = await d.cli("ls", "--json");
    const apps = JSON.parse(r.stdout) as { app: string; functions: string[] }[];
    expect(apps).toEqual([
      expect.objectContaining({ app: "deploy-app", functions: ["square", "slow", "count", "hello", "upload", "broken"] }),
    ]);
  });

  it("call prints the JSON result", async () => {
    expect((await d.cli("call", "deploy-app/square", "12", "--json")).stdout).toBe("144");
  });

  it("spawn prints a call id that get reads; get --timeout-ms 0 polls once", async () => {
    // Long enough that the next command (a process start, slow on a loaded machine) finds it still running.
    const spawned = await d.cli("spawn", "deploy-app/slow", "3000", "--json");
    const { functionCallId } = JSON.parse(spawned.stdout) as { functionCallId: string };
    expect(functionCallId).toMatch(/^fc-/);
    const early = await d.cli("get", functionCallId, "--timeout-ms", "0");
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/TimeoutError: call fc-.* is still running/);
    expect(JSON.parse((await d.cli("get", functionCallId, "--json")).stdout)).toEqual({ ms: 3000, version: 1 });
  });

  it("stats --json prints exactly the three numbers; warm sets minContainers", async () => {
    const warm = JSON.parse((await d.cli("warm", "deploy-app/square", "2", "--json")).stdout) as { minContainers: number };
    expect(warm.minContainers).toBe(2);
    let stats = { backlog: -1, numTotalRunners: -1, numRunningInputs: -1 };
    for (let i = 0; i < 40 && stats.numTotalRunners !== 2; i++) {
      stats = JSON.parse((await d.cli("stats", "deploy-app/square", "--json")).stdout);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stats).toEqual({ backlog: 0, numTotalRunners: 2, numRunningInputs: 0 });
    await d.cli("warm", "deploy-app/square", "0");
  });

  it("cancel stops a queued call, which get then reports cancelled", async () => {
    const marker = join(d.home, "never-ran");
    // Long enough that the queued call is still queued when cancel arrives, even on a loaded machine.
    const first = (await d.cli("spawn", "deploy-app/slow", "2500")).stdout;
    const queued = (await d.cli("spawn", "deploy-app/slow", "0", JSON.stringify(marker))).stdout;
    expect((await d.cli("cancel", queued)).stdout).toBe(`cancelled ${queued}`);
    const got = await d.cli("get", queued);
    expect(got.code).toBe(1);
    expect(got.stderr).toMatch(/InputCancelledError/);
    expect(JSON.parse((await d.cli("get", first, "--json")).stdout)).toEqual({ ms: 2500, version: 1 });
    expect(existsSync(marker)).toBe(false);
  });

  it("graph prints a spawned call's tree", async () => {
    const id = (await d.cli("spawn", "deploy-app/square", "3")).stdout;
    await d.cli("get", id);
    const graph = JSON.parse((await d.cli("graph", id, "--json")).stdout) as { functionName: string; status: string }[];
    expect(graph).toEqual([expect.objectContaining({ functionName: "square", status: "SUCCESS", functionCallId: id })]);
    expect((await d.cli("graph", id)).stdout).toMatch(/^square SUCCESS in-/);
  });

  it("unknown apps, functions and call ids are NotFoundError, on one line", async () => {
    for (const args of [
      ["call", "nope/square"],
      ["call", "deploy-app/nope"],
      ["get", "fc-nope"],
    ]) {
      const r = await d.cli(...args);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/NotFoundError/);
    }
  });

  it("every command has --help", async () => {
    for (const c of ["run", "deploy", "serve", "call", "spawn", "get", "cancel", "stats", "warm", "graph", "ls", "destroy"]) {
      expect((await d.cli(c, "--help")).stdout).toMatch(new RegExp(`^Usage: faasade ${c}`));
    }
  });

  it("a web function answers at its URL; over-size bodies get 413 and errors a 500 without the stack", async () => {
    const { port } = d.server();
    const base = `http://127.0.0.1:${port}/web/main/deploy-app`;
    const hello = await fetch(`${base}/hello?name=ada`);
    expect(hello.status).toBe(200);
    expect(hello.headers.get("x-app")).toBe("deploy-app");
    expect(await hello.text()).toBe("hello ada");
    const upload = await fetch(`${base}/upload`, { method: "POST", body: new Uint8Array(1000) });
    expect(await upload.json()).toEqual({ bytes: 1000, method: "POST" });
    expect((await fetch(`${base}/upload`)).status).toBe(405);
    const broken = await fetch(`${base}/broken`);
    expect(broken.status).toBe(500);
    expect(await broken.text()).toBe("internal error");
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it("getWebUrl gives the deployed function's loopback URL", async () => {
    const r = await d.script(
      'import { Function } from "faasade"; console.log(await (await Function.lookup("deploy-app", "hello")).getWebUrl());',
    );
    expect(r.stdout).toBe(`http://127.0.0.1:${d.server().port}/web/main/deploy-app/hello`);
  });

  it("the control API refuses requests without the token; the server listens on loopback only", async () => {
    const { port } = d.server();
    expect((await fetch(`http://127.0.0.1:${port}/v1/apps`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/v1/apps`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(`http://127.0.0.1:${port}/v1/health`, { headers: { authorization: `Bearer ${d.token()}` } });
    expect(ok.status).toBe(200);
    const hex = port.toString(16).toUpperCase().padStart(4, "0");
    const listening = readFileSync("/proc/net/tcp", "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[1]?.endsWith(`:${hex}`) && f[3] === "0A");
    expect(listening.map((f) => f[1])).toEqual([`0100007F:${hex}`]);
    expect(readFileSync("/proc/net/tcp6", "utf8")).not.toMatch(new RegExp(`:${hex} [0-9A-F]+:0000 0A`));
    expect(statSync(join(d.home, "token")).mode & 0o777).toBe(0o600);
    expect(statSync(d.home).mode & 0o777).toBe(0o700);
    expect(statSync(join(d.home, "state.db")).mode & 0o777).toBe(0o600);
  });

  it("the control API refuses malformed inputs with 400 naming the field", async () => {
    const { Encoder } = await import("cbor-x");
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
    const post = async (action: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${d.server().port}/v1/fn/main/deploy-app/square/${action}`, {
        method: "POST",
        headers: { authorization: `Bearer ${d.token()}`, "content-type": "application/cbor" },
        body: cbor.encode(body),
      });
      return { status: res.status, error: (cbor.decode(new Uint8Array(await res.arrayBuffer())) as { error: string }).error };
    };
    const good = { inputId: "in-x-1", callId: "fc-x", attempt: 1, args: new Uint8Array([0x82, 0x01, 0x02]) };
    const batch = await post("run", { inputs: [good, { ...good, inputId: "in-x-2\nin-x-3" }] });
    expect(batch.status).toBe(400);
    expect(batch.error).toMatch(/^inputs\[1\]: inputId must match .*, got "in-x-2\\nin-x-3"$/);
    expect(await post("run", { inputs: "nope" })).toEqual({
      status: 400,
      error: 'inputs: expected an array of inputs, got "nope"',
    });
    expect(await post("spawn", { input: { ...good, attempt: 0 } })).toEqual({
      status: 400,
      error: "input: attempt must be an integer ≥ 1, got 0",
    });
    expect((await post("spawn", {})).error).toBe("input: expected an input object, got undefined");
  });

  it("a spawn made through fromName in one process is read with fromId in another after the first exited", async () => {
    const spawned = await d.script(
      'import { Function } from "faasade"; const call = await Function.fromName("deploy-app", "slow").spawn(300); console.log(call.objectId);',
    );
    expect(spawned.code).toBe(0);
    const got = await d.script(
      'import { FunctionCall } from "faasade"; console.log(JSON.stringify(await FunctionCall.fromId(process.argv[1]).get()));',
      spawned.stdout,
    );
    expect(JSON.parse(got.stdout)).toEqual({ ms: 300, version: 1 });
  });

  it("a process that leaves a deployed map or remoteGen early still exits by itself", async () => {
    const r = await d.script(`
      import { Function } from "faasade";
      function* endless() { for (let i = 0; ; i++) yield i; }
      let n = 0;
      for await (const _ of Function.fromName("deploy-app", "square").map(endless())) if (++n === 5) break;
      let m = 0;
      for await (const _ of Function.fromName("deploy-app", "count").remoteGen(1e9)) if (++m === 3) break;
      console.log(n, m);
    `);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("5 3");
    expect(r.code).toBe(0); // not killed at the 30 s timeout: it exited by itself
  });

  it("destroy removes the app and its state", async () => {
    const id = (await d.cli("spawn", "deploy-app/square", "2")).stdout;
    await d.cli("get", id);
    expect((await d.cli("destroy", "deploy-app")).stdout).toBe("destroyed deploy-app");
    expect((await d.cli("call", "deploy-app/square", "2")).stderr).toMatch(/NotFoundError|not running/);
    expect((await d.cli("get", id)).stderr).toMatch(/NotFoundError|not running/);
  });
});

describe("call graphs past the server's memory", () => {
  // Two trees in memory: older ones are read back from the database.
  const d = deploymentHome({ FAASADE_GRAPH_CALLS_IN_MEMORY: "2" });
  afterAll(() => d.stop());

  it("the graph of a call the server no longer holds in memory is read back from its database", async () => {
    expect((await d.cli("deploy", APP)).code).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = (await d.cli("spawn", "deploy-app/square", String(i))).stdout;
      await d.cli("get", id);
      ids.push(id);
    }
    for (const id of ids) {
      const graph = JSON.parse((await d.cli("graph", id, "--json")).stdout) as { functionCallId: string; status: string }[];
      expect(graph).toEqual([expect.objectContaining({ functionName: "square", status: "SUCCESS", functionCallId: id })]);
    }
  });
});

describe("durability of local deployments", () => {
  const d = deploymentHome();
  afterAll(() => d.stop());

  it("an input acknowledged just before kill -9 runs after a restart; stored results are still served", async () => {
    expect((await d.cli("deploy", APP)).code).toBe(0);
    const done = (await d.cli("spawn", "deploy-app/square", "5")).stdout;
    expect((await d.cli("get", done)).stdout).toBe("25");
    const marker = join(d.home, "started");
    const pending = (await d.cli("spawn", "deploy-app/slow", "800", JSON.stringify(marker))).stdout;
    const first = d.server().pid;
    for (let i = 0; i < 100 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 20));
    process.kill(first, "SIGKILL");
    // Down for the whole of a zero deadline: the call fails at once, naming the server and why.
    const down = await d.cli("get", pending, "--timeout-ms", "0");
    expect(down.stderr).toMatch(/InternalFailure: the local deployment server .* could not be reached \(ECONNREFUSED\)/);
    expect((await d.cli("deploy", APP)).code).toBe(0); // restarts the server
    expect(d.server().pid).not.toBe(first);
    expect(JSON.parse((await d.cli("get", pending, "--json")).stdout)).toEqual({ ms: 800, version: 1 });
    expect((await d.cli("get", done)).stdout).toBe("25");
  });

  it("a server stopped gracefully (SIGTERM) runs its unfinished inputs again after a restart", async () => {
    const pending = (await d.cli("spawn", "deploy-app/slow", "600")).stdout;
    await new Promise((r) => setTimeout(r, 200)); // running now
    const { pid } = d.server();
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 20));
      } catch {
        break;
      }
    }
    expect((await d.cli("deploy", APP)).code).toBe(0);
    expect(JSON.parse((await d.cli("get", pending, "--json")).stdout)).toEqual({ ms: 600, version: 1 });
  });

  it("a result past its retention is OutputExpiredError", async () => {
    // Long enough for spawn and get (two CLI processes) on a loaded machine, short enough to wait out.
    const short = deploymentHome({ FAASADE_RESULT_RETENTION_MS: "3000" });
    try {
      expect((await short.cli("deploy", APP)).code).toBe(0);
      const id = (await short.cli("spawn", "deploy-app/square", "6")).stdout;
      expect((await short.cli("get", id)).stdout).toBe("36");
      await new Promise((r) => setTimeout(r, 3200));
      const r = await short.cli("get", id);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/OutputExpiredError: the result of call fc-.* has expired/);
    } finally {
      short.stop();
    }
  });

  it("redeploying updates the code without losing queued inputs", async () => {
    // `slow` runs one input at a time: the first holds the only container until the redeploy has
    // landed (it waits for `release`, however long the CLI takes on a loaded machine), so the next
    // two are still queued then.
    const release = join(mkdtempSync(join(tmpdir(), "faasade-release-")), "release");
    const ids = [(await d.cli("spawn", "deploy-app/slow", "60000", "null", JSON.stringify(release))).stdout];
    for (let i = 0; i < 2; i++) ids.push((await d.cli("spawn", "deploy-app/slow", "400")).stdout);
    expect((await d.cli("deploy", "test/fixtures/deploy-app-v2.mjs")).code).toBe(0);
    writeFileSync(release, "");
    const results = await Promise.all(ids.map(async (id) => JSON.parse((await d.cli("get", id, "--json")).stdout)));
    // The running input finishes in the old code; the queued ones run in the new.
    expect(results).toEqual([
      { ms: 60000, version: 1 },
      { ms: 400, version: 2 },
      { ms: 400, version: 2 },
    ]);
    expect(JSON.parse((await d.cli("call", "deploy-app/slow", "1", "--json")).stdout)).toEqual({ ms: 1, version: 2 });
  });

  it("a request body over the limit is refused with 413", async () => {
    const small = deploymentHome({ FAASADE_MAX_BODY_BYTES: "100" });
    try {
      expect((await small.cli("deploy", APP)).code).toBe(0);
      const url = `http://127.0.0.1:${small.server().port}/web/main/deploy-app/upload`;
      expect((await fetch(url, { method: "POST", body: new Uint8Array(101) })).status).toBe(413);
      expect((await fetch(url, { method: "POST", body: new Uint8Array(100) })).status).toBe(200);
    } finally {
      small.stop();
    }
  });
});

describe("faasade serve", () => {
  it("serves the file's apps in the foreground until SIGINT, then stops cleanly", async () => {
    const d = deploymentHome();
    const child = spawn(process.execPath, [CLI, "serve", APP], {
      env: { ...process.env, FAASADE_HOME: d.home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    for (let i = 0; i < 200 && !out.includes("serving on"); i++) await new Promise((r) => setTimeout(r, 25));
    expect(out).toContain("deployed deploy-app (main)");
    expect(out).toMatch(/serving on http:\/\/127\.0\.0\.1:\d+ until Ctrl-C/);
    expect((await d.cli("call", "deploy-app/square", "4")).stdout).toBe("16");
    const second = await d.cli("serve", APP);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already runs/);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(existsSync(join(d.home, "server.json"))).toBe(false);
  });
});
