// `faasade --help`, `faasade <command> --help` and docs/cli.md agree: the page holds each help
// text verbatim (scripts/cli-doc.mjs writes them), and each command's help works as the CLI
// conventions say (-h, help <command>, --version).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
// @ts-expect-error a plain script, without types
import { commandNames, reference } from "../scripts/cli-doc.mjs";

const CLI = "dist/src/cli/main.js";
const run = promisify(execFile);
const cli = async (...args: string[]) => (await run(process.execPath, [CLI, ...args])).stdout.trimEnd();
const doc = readFileSync("docs/cli.md", "utf8");

describe("the CLI's help", () => {
  it("docs/cli.md holds the --help of faasade and of every command, verbatim", () => {
    expect(doc, "run node scripts/cli-doc.mjs after npm run build").toContain((reference as () => string)());
  }, 60_000);

  it("every command has a row in docs/cli.md's table", async () => {
    const names = (commandNames as (top: string) => string[])(await cli("--help"));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(doc, name).toMatch(new RegExp(`^\\| \`${name}\\b`, "m"));
  });

  it("-h, help <command> and --version follow the conventions", async () => {
    expect(await cli("-h")).toBe(await cli("--help"));
    expect(await cli("help", "get")).toBe(await cli("get", "--help"));
    expect(await cli("get", "-h")).toMatch(/^Usage: faasade get \[options\] <call-id>/);
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(await cli("--version")).toBe(version);
    expect(await cli("-v")).toBe(version);
  });
});
