// What the CLI prints: generators as JSON lines as they come, --json that is always JSON, the
// remote stack with --verbose, and a file with nothing to run.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toJson } from "../src/cli/json.js";

const CLI = "dist/src/cli/main.js";
const APP = "test/fixtures/cli-app.mjs";
const home = mkdtempSync(join(tmpdir(), "faasade-cli-output-"));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** When each stdout line arrived, in ms since the start. */
  lineTimes: number[];
}
const cli = (...args: string[]) =>
  new Promise<Ran>((resolve) => {
    const started = performance.now();
    const lineTimes: number[] = [];
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, FAASADE_HOME: home }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr, lineTimes }),
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      for (const _ of chunk.toString().matchAll(/\n/g)) lineTimes.push(performance.now() - started);
    });
  });
const lines = (r: Ran) => r.stdout.trim().split("\n").filter(Boolean);

afterAll(async () => {
  await cli("destroy", "cli-app"); // the background server exits with its last app
});

describe("the JSON form of values", () => {
  it.each([
    ["undefined", undefined, "null"],
    ["a BigInt", 2n ** 70n, '"1180591620717411303424"'],
    ["NaN and -0", [Number.NaN, -0, Number.POSITIVE_INFINITY], "[null,0,null]"],
    ["a Date", new Date(Date.UTC(2026, 0, 2)), '"2026-01-02T00:00:00.000Z"'],
    ["an invalid Date", new Date(Number.NaN), "null"],
    [
      "a Map",
      new Map<unknown, unknown>([
        ["a", 1],
        [2, undefined],
      ]),
      '[["a",1],[2,null]]',
    ],
    ["a Set", new Set([1, "x"]), '[1,"x"]'],
    ["a Buffer", Buffer.from("hi"), '"aGk="'],
    ["a Uint8Array view", new Uint8Array([0, 104, 105, 0]).subarray(1, 3), '"aGk="'],
    ["an ArrayBuffer", new Uint8Array([104, 105]).buffer, '"aGk="'],
    ["a Float64Array", new Float64Array([1.5, 2]), "[1.5,2]"],
    ["a BigInt64Array", new BigInt64Array([3n]), '["3"]'],
    ["a RegExp", /a+b/gi, '"/a+b/gi"'],
    ["an object with undefined", { a: undefined, b: [undefined] }, '{"b":[null]}'],
    [
      "an Error with a code and cause",
      Object.assign(new TypeError("bad", { cause: 1n }), { code: "E1" }),
      '{"name":"TypeError","message":"bad","code":"E1","cause":"1"}',
    ],
  ])("%s", (_, value, json) => {
    expect(toJson(value)).toBe(json);
    expect(() => JSON.parse(toJson(value))).not.toThrow();
  });

  it("shared references are repeated, cycles are marked", () => {
    const shared = { x: 1 };
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    expect(toJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
    expect(toJson(cyclic)).toBe('{"name":"loop","self":"[Circular]"}');
  });
});

describe("faasade run <file>::<function>", () => {
  it("prints a generator's values as JSON lines as they come", async () => {
    const r = await cli("run", `${APP}::countdown`, "3", "1500");
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r).map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([3, 2, 1]);
    // The first value is printed while the generator still runs (it sleeps 1.5 s after each).
    expect((r.lineTimes.at(-1) as number) - (r.lineTimes[0] as number)).toBeGreaterThan(2_000);
  });

  it("--json prints JSON for every result: undefined, BigInt, Date, Map, bytes", async () => {
    expect((await cli("run", `${APP}::nothing`, "--json")).stdout).toBe("null\n");
    const odd = await cli("run", `${APP}::odd`, "--json");
    expect(JSON.parse(odd.stdout)).toEqual({
      big: "1180591620717411303424",
      when: "1970-01-01T00:00:00.000Z",
      seen: [["a", 1]],
      bytes: "aGk=",
    });
  });

  it("--verbose prints the remote stack, with the user's own frame", async () => {
    const quiet = await cli("run", `${APP}::boom`);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr.trim()).toBe('faasade: UserCodeError: function "boom" threw TypeError: boom from the fixture');
    const verbose = await cli("run", `${APP}::boom`, "--verbose");
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^faasade: UserCodeError: function "boom" threw/);
    expect(verbose.stderr).toMatch(/Caused by: TypeError: boom from the fixture\n\s+at boom \(.*cli-app\.mjs:25:\d+\)/);
  });

  it("a file without a localEntrypoint says so and lists its functions", async () => {
    const r = await cli("run", APP);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `faasade: NotFoundError: ${APP} defines no localEntrypoint, so nothing ran; its functions: boom, countdown, nothing, odd, square. Call one with faasade run ${APP}::<function> [json-args...]`,
    );
  });
});

describe("a file that imports another copy of faasade", () => {
  it("names the CLI to run instead of saying it exports no function", async () => {
    // A project with faasade of its own (a copy of this build), and this repository's CLI run on it.
    const project = mkdtempSync(join(tmpdir(), "faasade-other-copy-"));
    const copy = join(project, "node_modules", "faasade");
    mkdirSync(copy, { recursive: true });
    cpSync("dist", join(copy, "dist"), { recursive: true });
    cpSync("package.json", join(copy, "package.json"));
    symlinkSync(resolve("node_modules"), join(copy, "node_modules"));
    writeFileSync(
      join(project, "app.mjs"),
      'import { App } from "faasade";\nexport const f = new App("copy-app").function(function f() {});\n',
    );
    for (const command of [["deploy"], ["run"]]) {
      const r = await cli(...command, join(project, command[0] === "run" ? "app.mjs::f" : "app.mjs"));
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(
        /uses another copy of faasade than this CLI \(.*\): run the project's own, as in npx faasade$/,
      );
    }
  });
});

describe("generators on a deployment", () => {
  it("call <app>/<gen> and get <id> of a spawned generator print JSON lines", async () => {
    const deployed = await cli("deploy", APP);
    expect(deployed.code, deployed.stderr).toBe(0);
    const called = await cli("call", "cli-app/countdown", "3", "1000", "--json");
    expect(called.code, called.stderr).toBe(0);
    expect(lines(called).map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([3, 2, 1]);
    expect((called.lineTimes.at(-1) as number) - (called.lineTimes[0] as number)).toBeGreaterThan(1_200);
    const id = (await cli("spawn", "cli-app/countdown", "2")).stdout.trim();
    const got = await cli("get", id);
    expect(got.code, got.stderr).toBe(0);
    expect(lines(got).map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([2, 1]);
    expect((await cli("get", (await cli("spawn", "cli-app/square", "7")).stdout.trim(), "--json")).stdout).toBe("49\n");
  }, 60_000);
});
