// A call made by a module's top-level code would run again in every container that imports the
// module (a fork bomb). It is refused with InvalidError there, and the launching program fails
// fast with a RemoteError whose cause says where calls belong.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidError } from "faasade";
import { afterAll, describe, expect, it } from "vitest";
// The built module: it must share the core with `faasade` (the flag and the error classes).
import { appModule, functionOf } from "../dist/src/cloud/run-input.js";

const fixture = fileURLToPath(new URL("./fixtures/toplevel-call-app.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "faasade-toplevel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function launch(awaited: boolean): Promise<{ code: number | null; stderr: string; imports: number }> {
  const imports = join(dir, `imports-${awaited}`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fixture],
      {
        timeout: 30_000,
        env: { ...process.env, FAASADE_TEST_IMPORTS: imports, FAASADE_TEST_AWAIT: awaited ? "1" : "0", FAASADE_PROVIDER: "" },
      },
      (err, _stdout, stderr) => {
        const count = readFileSync(imports, "utf8").split("\n").filter(Boolean).length;
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr, imports: count });
      },
    );
  });
}

describe("a call at a module's top level", { timeout: 40_000 }, () => {
  for (const awaited of [false, true]) {
    it(`${awaited ? "awaited" : "not awaited"}: the program fails fast and no container starts another`, async () => {
      const { code, stderr, imports } = await launch(awaited);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/RemoteError: function "square" could not start/);
      expect(stderr).toMatch(/InvalidError: function "square" was called while a container imported/);
      expect(stderr).toMatch(/localEntrypoint/);
      // The launching process and the one container that refused: nothing more.
      expect(imports).toBe(2);
    });
  }

  it("a cloud runtime answers every input with the refusal as its init failure", async () => {
    const { App } = await import("faasade");
    const app = new App("toplevel-cloud");
    const fn = app.function(function twice(x: number) {
      return x * 2;
    });
    let refused: unknown;
    appModule(async () => {
      fn.remote(1).catch((err: unknown) => {
        refused = err;
      });
    });
    const found = await functionOf({ app: "toplevel-cloud", env: "main", fn: "twice" });
    expect(refused).toBeInstanceOf(InvalidError);
    expect(found).toMatch(/failed to import: function "twice" was called while a container imported the app's module/);
    await app.close();
  });
});
