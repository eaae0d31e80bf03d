/**
 * docs/options.md cannot drift: it is what scripts/options-doc.mjs writes from the sources, the
 * script refuses JSDoc that disagrees with the checks, and the bounds and defaults it documents
 * are the ones definitions enforce.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, InvalidError, Retries } from "faasade";
import { memoryProvider } from "faasade/testing";
import { afterAll, describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..");
const script = join(repo, "scripts/options-doc.mjs");

const run = (...args: string[]) => {
  const { status, stdout, stderr } = spawnSync(process.execPath, [script, ...args], { cwd: repo, encoding: "utf8" });
  return { status, stdout, stderr };
};

interface Row {
  name: string;
  default: string;
  defaultValue: number | string | boolean | undefined;
  bounds?: { min: number; max: number; integer: boolean };
}
interface Section {
  iface: string;
  rows: Row[];
}

const sections = JSON.parse(run("--json").stdout) as Section[];
const rowsOf = (iface: string): Row[] => sections.find((s) => s.iface === iface)?.rows ?? [];

const scratch = mkdtempSync(join(tmpdir(), "faasade-options-doc-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the three sources the script reads, with `edit` applied to one of them. */
function sourcesWith(file: string, edit: (text: string) => string): string {
  const root = mkdtempSync(join(scratch, "root-"));
  for (const f of ["src/core/options.ts", "src/core/retries.ts", "src/core/app.ts"]) cpSync(join(repo, f), join(root, f));
  const path = join(root, file);
  const before = readFileSync(path, "utf8");
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(path, after);
  return root;
}

describe("docs/options.md", () => {
  it("is what the script writes from the sources", () => {
    const { status, stderr } = run("--check");
    expect(stderr).toBe("");
    expect(status).toBe(0);
  });

  it("a doc that differs fails the check, naming the first differing line", () => {
    const doc = join(scratch, "options.md");
    writeFileSync(doc, readFileSync(join(repo, "docs/options.md"), "utf8").replace("300 000", "30 000"));
    const { status, stderr } = run("--check", "--doc", doc);
    expect(status).toBe(1);
    expect(stderr).toMatch(/differs from the sources from line \d+; run node scripts\/options-doc\.mjs --write/);
  });

  it("covers every option of FunctionOptions, WebOptions, RetriesOptions and AppOptions", () => {
    expect(rowsOf("FunctionOptions").map((r) => r.name)).toEqual([
      "name",
      "timeoutMs",
      "retries",
      "minContainers",
      "maxContainers",
      "bufferContainers",
      "scaledownWindowMs",
      "maxInputs",
      "memoryMb",
      "env",
      "web",
      "providerOptions",
      "module",
    ]);
    expect(rowsOf("WebOptions").map((r) => r.name)).toEqual(["method", "auth"]);
    expect(rowsOf("RetriesOptions").map((r) => r.name)).toEqual([
      "maxRetries",
      "backoffCoefficient",
      "initialDelayMs",
      "maxDelayMs",
    ]);
    expect(rowsOf("AppOptions").map((r) => r.name)).toEqual(["provider", "environment"]);
  });
});

describe("the script refuses JSDoc that disagrees with the checks", () => {
  it("a @default other than the checks' default", () => {
    const root = sourcesWith("src/core/options.ts", (s) => s.replace("@default 300_000", "@default 30_000"));
    const { status, stderr } = run("--check", "--root", root);
    expect(status).toBe(1);
    expect(stderr).toContain("FunctionOptions.timeoutMs: JSDoc says @default 30_000; the checks use 300000");
  });

  it("bounds the checks changed without the JSDoc", () => {
    const root = sourcesWith("src/core/options.ts", (s) => s.replace("timeoutMs: { min: 1000,", "timeoutMs: { min: 2000,"));
    const { status, stderr } = run("--check", "--root", root);
    expect(status).toBe(1);
    expect(stderr).toContain("the checks enforce integer, 2 000 ≤ timeoutMs ≤ 86 400 000");
  });

  it("a Retries check changed without the JSDoc", () => {
    const root = sourcesWith("src/core/retries.ts", (s) =>
      s.replace('check("maxRetries", maxRetries, 0, 100,', 'check("maxRetries", maxRetries, 0, 50,'),
    );
    const { status, stderr } = run("--check", "--root", root);
    expect(status).toBe(1);
    expect(stderr).toContain("the checks enforce integer, 0 ≤ maxRetries ≤ 50");
  });

  it("an option without JSDoc, or without its @default", () => {
    const bare = sourcesWith("src/core/app.ts", (s) => {
      const start = s.indexOf("  /**\n   * The environment");
      return s.slice(0, start) + s.slice(s.indexOf("*/\n", start) + 3);
    });
    expect(run("--check", "--root", bare).stderr).toContain("AppOptions.environment has no JSDoc description");
    const noDefault = sourcesWith("src/core/options.ts", (s) => s.replace("   * @default `fn.name`\n", ""));
    expect(run("--check", "--root", noDefault).stderr).toContain("FunctionOptions.name has no @default");
  });
});

describe("the documented bounds and defaults are the enforced ones", () => {
  const app = new App("options-doc", { provider: memoryProvider() });
  let n = 0;
  const define = (options: Record<string, unknown>) => app.function(function f() {}, { name: `f${n++}`, ...options });
  const bounded = (rows: Row[]) => rows.filter((r): r is Row & { bounds: NonNullable<Row["bounds"]> } => r.bounds !== undefined);

  it("every FunctionOptions bound: min and max accepted, one past either refused quoting the value", () => {
    const rows = bounded(rowsOf("FunctionOptions"));
    expect(rows.map((r) => r.name)).toContain("timeoutMs");
    for (const { name, bounds } of rows) {
      for (const ok of [bounds.min, bounds.max]) expect(() => define({ [name]: ok }), `${name}: ${ok}`).not.toThrow();
      for (const bad of [bounds.min - 1, bounds.max + 1]) {
        expect(() => define({ [name]: bad }), `${name}: ${bad}`).toThrow(InvalidError);
        expect(() => define({ [name]: bad }), `${name}: ${bad}`).toThrow(String(bad));
      }
      if (bounds.integer) expect(() => define({ [name]: bounds.min + 0.5 }), `${name}: not an integer`).toThrow(InvalidError);
    }
  });

  it("every RetriesOptions bound, likewise", () => {
    const rows = bounded(rowsOf("RetriesOptions"));
    expect(rows).toHaveLength(4);
    for (const { name, bounds } of rows) {
      const retries = (value: number) => new Retries({ maxRetries: 0, [name]: value });
      for (const ok of [bounds.min, bounds.max]) expect(() => retries(ok), `${name}: ${ok}`).not.toThrow();
      for (const bad of [bounds.min - 1, bounds.max + 1]) expect(() => retries(bad), `${name}: ${bad}`).toThrow(String(bad));
    }
  });

  it("every numeric or literal default is what a definition without the option gets", () => {
    const options = define({}).definition().spec.options as unknown as Record<string, unknown>;
    const given = rowsOf("FunctionOptions").filter((r) => typeof r.defaultValue === "number");
    expect(given.map((r) => r.name)).toEqual([
      "timeoutMs",
      "retries",
      "minContainers",
      "bufferContainers",
      "scaledownWindowMs",
      "maxInputs",
    ]);
    for (const { name, defaultValue } of given) {
      const value = name === "retries" ? (options.retries as Retries).maxRetries : options[name];
      expect(value, name).toBe(defaultValue);
    }
    expect(options.env).toEqual({});
    expect(options.web).toBeUndefined();
    const web = define({ web: {} }).definition().spec.options.web as Record<string, unknown>;
    for (const { name, defaultValue } of rowsOf("WebOptions")) expect(web[name], name).toBe(defaultValue);
    const retries = new Retries({ maxRetries: 0 }) as unknown as Record<string, unknown>;
    for (const { name, defaultValue } of rowsOf("RetriesOptions").slice(1)) expect(retries[name], name).toBe(defaultValue);
    const environment = rowsOf("AppOptions").find((r) => r.name === "environment")?.defaultValue;
    expect(new App("options-doc-env", { provider: memoryProvider() }).environment).toBe(environment);
  });
});
