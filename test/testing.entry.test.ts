// faasade/testing installed without vitest (an optional peer): startTestBackend and memoryProvider
// work, and testProvider names what to install. The package is laid out as an install would put
// it — node_modules/faasade with the built dist and its dependencies beside it, and no vitest
// anywhere on the resolution path — and a child node process imports it from there.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const root = mkdtempSync(join(tmpdir(), "faasade-no-vitest-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function install(): void {
  const pkg = join(root, "node_modules", "faasade");
  mkdirSync(pkg, { recursive: true });
  cpSync("package.json", join(pkg, "package.json"));
  cpSync("dist/src", join(pkg, "dist", "src"), { recursive: true });
  for (const dep of ["cbor-x", "fflate", "quick-lru"]) {
    symlinkSync(realpathSync(join("node_modules", dep)), join(root, "node_modules", dep), "dir");
  }
}

const check = `
import { App, Function_ } from "faasade";
import * as testing from "faasade/testing";
const report = { vitest: "found", startTestBackend: typeof testing.startTestBackend };
await import("vitest").catch((e) => { report.vitest = e.code; });
await testing.startTestBackend("nowhere", { module: "x.js" }).catch((e) => { report.backend = e.name; });
const app = new App("entry");
app.function(function square(x) { return x * x; });
report.memory = await Function_.fromName("entry", "square", { provider: testing.memoryProvider() }).remote(7);
try {
  testing.testProvider({ name: "memory", provider: () => testing.memoryProvider() });
} catch (e) {
  report.testProvider = { name: e.name, message: e.message };
}
console.log(JSON.stringify(report));
`;

describe("faasade/testing without vitest installed", () => {
  it("startTestBackend and memoryProvider work; testProvider throws ExecutionError naming npm i -D vitest", async () => {
    install();
    writeFileSync(join(root, "check.mjs"), check);
    const { stdout } = await promisify(execFile)(process.execPath, ["check.mjs"], { cwd: root });
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report.vitest).toBe("ERR_MODULE_NOT_FOUND"); // the layout really hides vitest
    expect(report.startTestBackend).toBe("function");
    expect(report.backend).toBe("InvalidError");
    expect(report.memory).toBe(49);
    expect(report.testProvider).toEqual({ name: "ExecutionError", message: expect.stringContaining("npm i -D vitest") });
  });
});
