// The bundle a gcp deploy uploads: index.mjs registering entry point "faasade" with
// functions-framework, and the package.json Cloud Functions' Node.js buildpack installs from
// (ESM, main index.mjs, functions-framework and the Google SDKs pinned, none of them in the zip).
// The unzipped bundle is then loaded as the platform does and served by functions-framework's
// own server on 127.0.0.1.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { unzipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { bundle } from "../src/cloud/bundle.js";
import { gcpBundle, gcpEntry } from "../src/providers/gcp/deploy/entry.js";

// Inside the project, so that the packages the buildpack would install resolve from node_modules.
mkdirSync("test/.tmp", { recursive: true });
const dir = mkdtempSync(join("test/.tmp", "gcp-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the gcp bundle", { timeout: 120_000 }, () => {
  it("holds index.mjs and a package.json for the buildpack, and no Google SDK", async () => {
    const made = await bundle(gcpBundle("test/fixtures/gcp-app.mjs"));
    const files = unzipSync(made.zip);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(["index.mjs", "package.json"]));
    expect(Object.keys(files).filter((f) => /^node_modules\/(@google-cloud|google-auth-library)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(new TextDecoder().decode(files["package.json"]));
    expect(pkg).toMatchObject({ type: "module", main: "index.mjs" });
    expect(pkg.dependencies).toMatchObject({
      "@google-cloud/functions-framework": "5.0.5",
      "@google-cloud/storage": "7.22.0",
      "@google-cloud/tasks": "6.3.0",
      "@google-cloud/functions": "4.2.2",
      "google-auth-library": "10.9.1",
    });
    // What the zip ships in node_modules is listed too, at the version shipped.
    for (const name of made.installed) {
      const shipped = JSON.parse(new TextDecoder().decode(files[`node_modules/${name}/package.json`]));
      expect(pkg.dependencies[name]).toBe(shipped.version);
    }
    const index = new TextDecoder().decode(files["index.mjs"]);
    expect(index).toMatch(/from "@google-cloud\/functions-framework"/);
    expect(index).not.toMatch(/node_modules\/@google-cloud\/storage\//);
    expect(gcpEntry("/app/m.mjs")).toContain('registerFaasade({ entryPoint: "faasade" })');
    console.log(
      `gcp bundle of test/fixtures/gcp-app.mjs: index.mjs ${files["index.mjs"]?.length} bytes, zip ${made.zip.length} bytes`,
    );
    for (const [path, bytes] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    }
    // The same bytes again: a redeploy of the same code has nothing to upload.
    expect((await bundle(gcpBundle("test/fixtures/gcp-app.mjs"))).hash).toBe(made.hash);
  });

  it("functions-framework serves its entry point faasade: a GET to a non-web function is 405", () => {
    const script = [
      `await import(${JSON.stringify(pathToFileURL(resolve(dir, "index.mjs")).href)});`,
      'const { getTestServer } = await import("@google-cloud/functions-framework/testing");',
      'const server = getTestServer("faasade");',
      'await new Promise((r) => server.listen(0, "127.0.0.1", r));',
      'const res = await fetch("http://127.0.0.1:" + server.address().port + "/");',
      "console.log(JSON.stringify({ status: res.status, body: await res.text() }));",
      "server.close();",
    ].join("\n");
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      env: {
        ...process.env,
        FAASADE_APP: "gcp-app",
        FAASADE_FUNCTION: "square",
        GOOGLE_CLOUD_PROJECT: "my-project",
        METADATA_SERVER_DETECTION: "none",
      },
      encoding: "utf8",
    });
    const answer = JSON.parse(out.trim().split("\n").at(-1) as string);
    expect(answer).toEqual({ status: 405, body: "faasade: calls are POSTed envelopes" });
  });
});
