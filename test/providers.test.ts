// Providers by name: the core imports none of them, and loads `faasade/<name>` only when asked.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const HOOKS = new URL("./fixtures/record-resolve.mjs", import.meta.url).href;

/** Runs `code` in a fresh node process with the resolve hooks on; returns its output and every module it loaded. */
async function loaded(code: string, env: Record<string, string> = {}) {
  const file = join(mkdtempSync(join(tmpdir(), "faasade-resolve-")), "urls.txt");
  const script = `import { register } from "node:module"; register(${JSON.stringify(HOOKS)}); ${code}`;
  const out = await run(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, ...env, FAASADE_RESOLVED: file },
  }).catch((err: { stdout: string; stderr: string }) => err);
  const urls = readFileSync(file, "utf8").split("\n").filter(Boolean);
  return { stdout: out.stdout, stderr: out.stderr, urls };
}

describe("providers by name", { timeout: 30_000 }, () => {
  it('import "faasade" loads no provider module, nor any cloud SDK', async () => {
    const { urls, stderr } = await loaded(`await import("faasade"); await import("faasade");`);
    expect(stderr).toBe("");
    expect(urls.some((u) => u.includes("/dist/src/core/app.js"))).toBe(true);
    expect(urls.filter((u) => /\/src\/(providers|cloud)\/|@aws-sdk|better-sqlite3/.test(u))).toEqual([]);
  });

  it("an app loads its provider only when a call needs it: FAASADE_PROVIDER=local by default", async () => {
    const code = `
      const { App } = await import("faasade");
      const app = new App("by-name");
      const square = app.function((x) => x * x, { name: "square", module: ${JSON.stringify(new URL("./fixtures/aws-app.mjs", import.meta.url).href)} });
      console.log(await square.local(3));
      await app.close();`;
    const { urls, stdout } = await loaded(code);
    expect(stdout.trim()).toBe("9");
    expect(urls.filter((u) => u.includes("/src/providers/"))).toEqual([]);
  });

  it("FAASADE_PROVIDER=aws loads faasade/aws, and no other provider", async () => {
    const code = `const { App } = await import("faasade"); const app = new App("by-name"); console.log((await app.loadProvider()).name);`;
    const { urls, stdout } = await loaded(code, { FAASADE_PROVIDER: "aws" });
    expect(stdout.trim()).toBe("aws");
    expect(urls.some((u) => u.includes("/src/providers/aws/index.js"))).toBe(true);
    expect(urls.filter((u) => u.includes("/src/providers/local/"))).toEqual([]);
  });

  it("an unknown or absent provider is an InvalidError naming what is available", async () => {
    for (const name of ["no-such-cloud", "not-shipped", "Bad Name"]) {
      const code = `
        const { App, Function } = await import("faasade");
        const app = new App("by-name");
        const fn = app.function(function double(x) { return 2 * x; });
        const err = await fn.remote(1).catch((e) => e);
        console.log(JSON.stringify({ name: err.name, message: err.message }));
        const byName = await Function.lookup("other-app", "f").catch((e) => e);
        console.log(JSON.stringify({ name: byName.name }));`;
      const { stdout } = await loaded(code, { FAASADE_PROVIDER: name });
      const [first, second] = stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { name: string; message?: string });
      expect(first?.name).toBe("InvalidError");
      expect(first?.message).toContain(JSON.stringify(name));
      expect(first?.message).toMatch(/has: local, aws, gcp, azure/);
      expect(second?.name).toBe("InvalidError");
    }
  });
});
