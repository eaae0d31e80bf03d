// A local container starts from runtime.bundle.js, one file that is also what the app module's
// `import "faasade"` reaches there (the faasade-container export condition): the runtime and
// the app share one registry, input context and set of error classes.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { InvalidError, RemoteError, UserCodeError } from "faasade";
import { afterAll, describe, expect, it } from "vitest";
import { isCurrent, runtimeFor } from "../dist/src/providers/local/runtime-target.js";
import { app, forkedChildSays, startedFrom, throwsInvalid } from "./fixtures/bundle-app.mjs";

afterAll(() => app.close());

const dist = (path: string) => fileURLToPath(new URL(`../dist/src/${path}`, import.meta.url));

describe("the bundled container runtime", { timeout: 60_000 }, () => {
  it("starts an app module outside faasade's own code from the bundle, with the export condition", async () => {
    const started = await startedFrom.remote();
    expect(started.main).toBe(dist("providers/local/runtime.bundle.js"));
    expect(started.execArgv).toContain("--conditions=faasade-container");
    expect(started.hasInput).toBe(true); // the app module's currentInput is the runtime's
  });

  it("starts faasade's own modules (which import the core by relative path) from the unbundled runtime", () => {
    const own = runtimeFor(pathToFileURL(dist("testing/fixtures.js")).href);
    expect(own).toEqual({ file: dist("providers/local/runtime.js"), flags: [] });
    const user = runtimeFor(new URL("./fixtures/bundle-app.mjs", import.meta.url).href);
    expect(user).toEqual({ file: dist("providers/local/runtime.bundle.js"), flags: ["--conditions=faasade-container"] });
  });

  it("a process the function forks with the container's flags imports faasade without becoming a container", async () => {
    expect(await forkedChildSays.remote()).toEqual([{ imported: "function", argv: [] }]);
  });

  it("an error class the app module throws reaches the caller as that class", async () => {
    const err = await throwsInvalid.remote().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserCodeError);
    expect((err as UserCodeError).cause).toBeInstanceOf(InvalidError);
    expect(((err as UserCodeError).cause as Error).message).toBe("from the app module");
  });

  it("an app module that imports faasade by a file path fails to start, saying why", async () => {
    const { app: pathApp, square } = await import("./fixtures/path-import-app.mjs");
    try {
      const err = await square.remote(2).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as Error).message).toContain("imports faasade by a file path, so its app path-import-app is on a copy");
    } finally {
      await pathApp.close();
    }
  });

  it("a bundle older than tsc's output (a build by tsc alone) is not used, nor a missing one", () => {
    const dir = mkdtempSync(join(tmpdir(), "faasade-bundle-age-"));
    try {
      const [bundle, source] = [join(dir, "runtime.bundle.js"), join(dir, "runtime.js")];
      expect(isCurrent(bundle, source)).toBe(false);
      writeFileSync(bundle, "");
      writeFileSync(source, "");
      utimesSync(bundle, 1000, 1000);
      utimesSync(source, 2000, 2000);
      expect(isCurrent(bundle, source)).toBe(false);
      utimesSync(bundle, 2000, 2000); // same time, as npm packs every file
      expect(isCurrent(bundle, source)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
