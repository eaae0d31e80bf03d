// Bundling an app for Lambda through the shared bundler: the zip runs on its own, names survive,
// the app's module loads through the runtime's appModule, native addons are installed for
// Lambda's platform and CPU (never built here), and the same code gives the same zip on any machine.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { encode } from "faasade";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { nativeArchitecture } from "../src/cloud/bundle-arch.js";
import { packageDir } from "../src/cloud/bundle-install.js";
import { bundle } from "../src/cloud/bundle.js";
import { lambdaBundle } from "../src/providers/aws/deploy/entry.js";

const APP = "test/fixtures/aws-app.mjs";
/** An app that imports a native addon itself (faasade's own code needs none). */
const NATIVE_APP = "test/fixtures/native-app.mjs";

function envelope(app: string, fn: string, args: unknown[]) {
  return {
    v: 1,
    app,
    env: "main",
    fn,
    inputId: `in-${fn}`,
    callId: `fc-${fn}`,
    attempt: 1,
    args: Buffer.from(encode(args, "args")).toString("base64"),
  };
}

/** Unzips `zip` into a fresh directory and runs `script` there with node, as an ES module. */
function runUnzipped(zip: Uint8Array, script: string, env: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "faasade-lambda-"));
  try {
    for (const [path, bytes] of Object.entries(unzipSync(zip))) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    }
    return execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const callHandler = (event: unknown) =>
  `const m = await import("./index.mjs"); console.log(JSON.stringify(await m.handler(${JSON.stringify(event)})));`;

/** Runs `fn` with the environment variables `env` set, restoring them after. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

const nativePackages = (files: Record<string, Uint8Array>) => [
  ...new Set(Object.keys(files).flatMap((f) => /^node_modules\/(@cbor-extract\/[^/]+)\//.exec(f)?.[1] ?? [])),
];

describe("aws deploy: bundle", { timeout: 60_000 }, () => {
  it("makes a deterministic zip whose handler runs the app's functions by their own names", async () => {
    const first = await bundle(lambdaBundle(APP, "arm64"));
    const again = await bundle(lambdaBundle(APP, "arm64"));
    expect(again.hash).toBe(first.hash);
    // An app of plain JavaScript is one file: nothing to install, so no npm run at deploy.
    expect(Object.keys(unzipSync(first.zip))).toEqual(["index.mjs"]);
    expect(first.installed).toEqual([]);

    // The handler awaits the app's import (appModule) and then answers the envelope.
    const answer = JSON.parse(runUnzipped(first.zip, callHandler(envelope("aws-app", "square", [12])))) as {
      status: string;
      value: string;
    };
    expect(answer.status).toBe("SUCCESS");
    expect(Buffer.from(answer.value, "base64")).toEqual(Buffer.from(encode(144, "result")));
  });

  it("a call made inside a bundled function reaches aws through the bundle's own client side", async () => {
    const { zip } = await bundle(lambdaBundle(APP, "arm64"));
    // No faasade package beside the bundle: the nested call must not need to import faasade/aws.
    // Lambda's endpoint is a closed port, so the nested invoke itself is refused by the network.
    const out = runUnzipped(zip, `${callHandler(envelope("aws-app", "nested", [2]))}`, {
      FAASADE_PROVIDER: "aws",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL_LAMBDA: "http://127.0.0.1:9",
      AWS_MAX_ATTEMPTS: "1",
    });
    const answer = JSON.parse(out) as { status: string; error?: string };
    expect(answer.status).toBe("FAILURE");
    const text = Buffer.from(answer.error ?? "", "base64").toString("latin1");
    expect(text).not.toMatch(/is not available/);
    expect(text).toMatch(/Invoke/);
  });

  it("imports the app's module as the bundle loads, before any event, through one index.mjs", async () => {
    const { zip } = await bundle(lambdaBundle("test/fixtures/init-app.mjs", "arm64"));
    // esbuild inlines the entry's dynamic import of the app: no second chunk, no import of its path.
    const index = new TextDecoder().decode(unzipSync(zip)["index.mjs"]);
    expect(Object.keys(unzipSync(zip)).filter((f) => !f.startsWith("node_modules/"))).toEqual(["index.mjs"]);
    expect(index).not.toContain('init-app.mjs")');
    const imported = runUnzipped(
      zip,
      'await import("./index.mjs"); await new Promise((r) => setTimeout(r, 50)); console.log(String(globalThis.faasadeInitAppImported));',
    );
    expect(imported.trim()).toBe("true");
  });

  it("answers INIT_FAILURE, naming the error, when the app's module throws as it imports", async () => {
    const { zip } = await bundle(lambdaBundle("test/fixtures/broken-app.mjs", "arm64"));
    // broken-app throws at import where FAASADE_TASK_ID is set, as in a container.
    const out = runUnzipped(zip, callHandler(envelope("broken-app", "unreachable", [])), { FAASADE_TASK_ID: "t-1" });
    const answer = JSON.parse(out) as { status: string; message: string };
    expect(answer.status).toBe("INIT_FAILURE");
    expect(answer.message).toContain("boom at import");
  });

  it("installs an app's native addon, not inlined: cbor-extract's linux-arm64 package for arm64, its linux-x64 one for x86_64", async () => {
    for (const [architecture, cpu] of [
      ["arm64", "arm64"],
      ["x86_64", "x64"],
    ] as const) {
      const built = await bundle(lambdaBundle(NATIVE_APP, architecture));
      expect(built.installed).toEqual(["cbor-extract"]);
      const files = unzipSync(built.zip);
      expect(nativePackages(files)).toEqual([`@cbor-extract/cbor-extract-linux-${cpu}`]);
      const binaries = Object.keys(files).filter((f) => f.endsWith(".node"));
      expect(binaries.length).toBeGreaterThan(0);
      for (const path of binaries) expect([path, nativeArchitecture(files[path] as Uint8Array)]).toEqual([path, cpu]);
    }
  });

  it("gives the same zip with a fresh empty npm cache and temp dir, and no file holds a path of this machine or build residue", async () => {
    const usual = await bundle(lambdaBundle(NATIVE_APP, "arm64"));
    const cache = mkdtempSync(join(tmpdir(), "faasade-npm-cache-"));
    const temp = mkdtempSync(join(tmpdir(), "faasade-tmp-"));
    try {
      const fresh = await withEnv({ npm_config_cache: cache, TMPDIR: temp }, () => bundle(lambdaBundle(NATIVE_APP, "arm64")));
      expect(fresh.hash).toBe(usual.hash);
      expect(readdirSync(cache).length).toBeGreaterThan(0); // npm did fill the fresh cache
      const files = unzipSync(fresh.zip);
      for (const [path, bytes] of Object.entries(files)) {
        const text = Buffer.from(bytes).toString("latin1");
        for (const machinePath of [cache, temp, process.cwd()]) {
          expect([path, text.includes(machinePath)]).toEqual([path, false]);
        }
        expect(path).not.toMatch(/(^|\/)(Makefile|config\.gypi|[^/]+\.mk)$/);
        expect(path).not.toMatch(/node_modules\/(@[^/]+\/)?[^/]+\/build\//);
      }
      // Versions are the project's, not the registry's latest: detect-libc as cbor-extract's tree resolves it here.
      const from = (name: string, dir: string | undefined) => (dir === undefined ? undefined : packageDir(name, dir));
      const cborExtract = packageDir("cbor-extract", process.cwd());
      const detectLibc = from("detect-libc", from("node-gyp-build-optional-packages", cborExtract)) ?? "";
      const projectDetectLibc = JSON.parse(readFileSync(join(detectLibc, "package.json"), "utf8")) as { version: string };
      const shipped = JSON.parse(Buffer.from(files["node_modules/detect-libc/package.json"] as Uint8Array).toString()) as {
        version: string;
      };
      expect(shipped.version).toBe(projectDetectLibc.version);
    } finally {
      rmSync(cache, { recursive: true, force: true });
      rmSync(temp, { recursive: true, force: true });
    }
  });
});
