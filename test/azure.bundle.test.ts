// The bundle an Azure deploy publishes, made by the real bundler: index.mjs (the runtime and the app
// inlined), a package.json the remote build installs the Azure SDKs from (none of them in the zip), and
// the same bytes for the same code. It needs the package's own `faasade/azure/runtime` export: until
// package.json has it, the rows are skipped by name.
import { readFileSync } from "node:fs";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { bundle } from "../src/cloud/bundle.js";
import { azureBundle } from "../src/providers/azure/deploy/entry.js";

const exportsRuntime = Boolean(
  (JSON.parse(readFileSync("package.json", "utf8")) as { exports?: Record<string, unknown> }).exports?.["./azure/runtime"],
);
const FIXTURE = "test/fixtures/gcp-app.mjs"; // a plain faasade app, no provider of its own

describe.skipIf(!exportsRuntime)("the azure bundle (needs package.json's ./azure/runtime export)", { timeout: 120_000 }, () => {
  it("holds index.mjs and the package.json of the remote build, and no Azure SDK", async () => {
    const made = await bundle(azureBundle(FIXTURE));
    const files = unzipSync(made.zip);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(["index.mjs", "package.json"]));
    expect(Object.keys(files).filter((f) => f.startsWith("node_modules/@azure/"))).toEqual([]);
    const pkg = JSON.parse(new TextDecoder().decode(files["package.json"]));
    expect(pkg).toMatchObject({ type: "module", main: "index.mjs" });
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(["@azure/functions", "@azure/storage-queue"]));
    const index = new TextDecoder().decode(files["index.mjs"]);
    expect(index).toMatch(/from ["']@azure\/functions["']/);
    expect(index).not.toMatch(/node_modules\/@azure\/storage-blob\//);
    // The bench's target for the runtime bundle.
    expect(made.zip.length).toBeLessThan(150 * 1024);
    console.log(`azure bundle of ${FIXTURE}: index.mjs ${files["index.mjs"]?.length} bytes, zip ${made.zip.length} bytes`);
    expect((await bundle(azureBundle(FIXTURE))).hash).toBe(made.hash);
  });
});
