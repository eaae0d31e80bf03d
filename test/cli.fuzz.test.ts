// Fuzzing the CLI's arguments: random commands, flags (known and not, with values missing or
// inline), references, JSON-ish and unicode arguments, very long strings. Run as the real
// command (a child process) against a home with no deployment and against a running one: a
// bad command line exits 1 with one line naming what was wrong, never a stack trace.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, startDeployment } from "./fixtures/deploy-harness.js";

const CLI = "dist/src/cli/main.js";
let live: Deployment;
const empty = mkdtempSync(join(tmpdir(), "faasade-cli-fuzz-"));
beforeAll(async () => {
  live = await startDeployment();
});
afterAll(() => live?.close());

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}
/** `--provider aws` must not reach out: no region, no credentials, and a closed loopback port as every endpoint. */
const offline = () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("AWS_")) delete env[name];
  return {
    ...env,
    AWS_ENDPOINT_URL: "http://127.0.0.1:9",
    AWS_CONFIG_FILE: join(empty, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(empty, "no-aws-credentials"),
    AWS_MAX_ATTEMPTS: "1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", // the SDK's own multi-line notice on Node 20
  };
};
const cli = (argv: string[], home: string) =>
  new Promise<Ran>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...argv],
      { env: { ...offline(), FAASADE_HOME: home }, timeout: 25_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });

// Commands that change or keep what the live deployment runs (destroy, warm, serve, deploy) are fuzzed against the empty home only.
const SAFE = ["run", "call", "spawn", "get", "cancel", "stats", "graph", "ls", "help", "token"];
const CHANGING = ["deploy", "serve", "warm", "destroy"];
const FLAGS = [
  "--env",
  "--provider",
  "--timeout-ms",
  "--json",
  "--help",
  "--terminate-containers",
  "--",
  "--nope",
  "-x",
  "--env=",
];
const noNul = (s: string) => !s.includes("\0");
const text = fc
  .oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 10 }),
    fc.constantFrom("hardening-app/square", "hardening-app/nope", "a/b/c", "/", "fc-1", "in-1", "x.mjs::f", "::", "-1", "1e999"),
    fc.constantFrom("3", "[1,2]", '{"__proto__":1}', "{", '"', "null", "\n", "é😀", "\u202e"),
    fc.integer({ min: 1000, max: 20_000 }).map((n) => "é".repeat(n)),
    fc.constantFrom("local", "aws", "nimbus", "../x"),
  )
  .filter(noNul);
const argv = (commands: string[]) =>
  fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...commands) }, text),
      fc.array(fc.oneof({ weight: 2, arbitrary: text }, fc.constantFrom(...FLAGS)), { maxLength: 5 }),
    )
    .map(([command, rest]) => [command, ...rest]);

/**
 * A failure is one line: `faasade: <ErrorName>: <message>`, with no stack frames, and the name is
 * one of faasade's classes: a bare `Error` would be a failure nobody translated (no fuzzed file exists).
 */
function expectOneLineError(r: Ran, args: string[]): void {
  const lines = r.stderr.trimEnd().split("\n");
  const shown = `${JSON.stringify(args).slice(0, 300)} → ${r.code}: ${r.stderr.slice(0, 600)}`;
  expect(r.code, shown).toBe(1);
  expect(lines, shown).toHaveLength(1);
  expect(lines[0], shown).toMatch(/^faasade: (?!Error:)[A-Za-z]+: \S/);
  expect(r.stderr, shown).not.toMatch(/\n\s+at /);
}

const outcomes = new Map<string, number>();
const tally = (r: Ran) => {
  const key = r.code === 0 ? "exit 0" : (/^faasade: ([A-Za-z]+)/.exec(r.stderr)?.[1] ?? `exit ${r.code}`);
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
};

describe("the CLI under fuzzed arguments", () => {
  it.each([
    ["a home with no deployment", () => empty, [...SAFE, ...CHANGING]],
    ["a running deployment", () => live.home, SAFE],
  ] as const)(
    "against %s: exits 0, or 1 with one line saying what was wrong",
    async (_, home, commands) => {
      await fc.assert(
        // Two command lines at a time: the machine has two cores, and each is a process start.
        fc.asyncProperty(argv([...commands]), argv([...commands]), async (...pair) => {
          const ran = await Promise.all(pair.map((args) => cli(args, home())));
          ran.forEach((r, i) => {
            tally(r);
            if (r.code !== 0) expectOneLineError(r, pair[i] as string[]);
            else expect(r.stderr, JSON.stringify(pair[i])).toBe("");
          });
        }),
        { numRuns: 15, interruptAfterTimeLimit: 6_000 },
      );
      console.log(`cli fuzz so far: ${[...outcomes].map(([k, v]) => `${k} ×${v}`).join(", ")}`);
    },
    30_000,
  );

  it("names the bad argument", async () => {
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /unknown command "frobnicate"/],
      [["ls", "--colour"], /unknown option "--colour"/],
      [["get", "fc-1", "--timeout-ms"], /option "--timeout-ms <ms>" argument missing; see faasade get --help$/],
      [["get", "fc-1", "--timeout-ms", "--json"], /option "--timeout-ms <ms>" argument missing/],
      [["get"], /missing required argument "call-id"; see faasade get --help/],
      [["warm", "hardening-app/square", "2", "3"], /too many arguments for "warm"/],
      [["get", "fc-1", "--timeout-ms", "soon"], /--timeout-ms must be a number ≥ 0, got "soon"/],
      [["call", "hardening-app/square", "{"], /argument 1 is not valid JSON: "\{"/],
      [["call", "nope"], /call: expected <app>\/<function>, got "nope"/],
      [["warm", "hardening-app/square", "-3"], /warm: expected a container count ≥ 0, got "-3"/],
      [["unknown\ncommand"], /unknown command "unknown\\ncommand"/],
      [["x".repeat(100_000)], /unknown command "x{57}\.\.\."/],
    ];
    const ran = await Promise.all(cases.map(([args]) => cli(args, empty)));
    ran.forEach((r, i) => {
      const [args, message] = cases[i] as [string[], RegExp];
      expectOneLineError(r, args);
      expect(r.stderr.trim()).toMatch(message);
    });
  }, 30_000);
});
