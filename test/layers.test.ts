// The layering is the architecture: the core imports no provider and no cloud code, the cloud
// layer imports no provider, and no provider imports another. Read from the sources' imports.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve("src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of a file (static, dynamic and type-only), as a path under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found = [...text.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1] as string);
  return found.map((spec) => relative(SRC, resolve(dirname(file), spec)));
}

const layerOf = (path: string) =>
  path
    .split("/")
    .slice(0, path.startsWith("providers/") ? 2 : 1)
    .join("/");

describe("layers", () => {
  const edges = sources(SRC).flatMap((file) => importsOf(file).map((to) => ({ from: relative(SRC, file), to })));

  it("finds the imports it checks", () => {
    expect(edges.some((e) => e.from.startsWith("providers/aws/") && e.to.startsWith("cloud/"))).toBe(true);
  });

  it("src/core imports neither a provider nor the cloud layer", () => {
    expect(edges.filter((e) => e.from.startsWith("core/") && /^(providers|cloud)\//.test(e.to))).toEqual([]);
  });

  it("src/cloud imports no provider", () => {
    expect(edges.filter((e) => e.from.startsWith("cloud/") && e.to.startsWith("providers/"))).toEqual([]);
  });

  it("no provider imports another provider", () => {
    const crossing = edges.filter(
      (e) => e.from.startsWith("providers/") && e.to.startsWith("providers/") && layerOf(e.from) !== layerOf(e.to),
    );
    expect(crossing).toEqual([]);
  });
});
