/**
 * Bundles an app's module with the AWS runtime into one zip for Lambda (esbuild, imported
 * lazily). The AWS SDK stays out (Lambda's Node runtimes provide it). Packages that cannot be
 * bundled (native addons, and those marked external) are installed for Lambda's platform and
 * architecture and shipped in the zip's node_modules. The zip is deterministic: the same code
 * gives the same hash, which is how a second deploy knows it has nothing to do.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { ExecutionError } from "../../../core/errors.js";

export interface BundleOptions {
  /** The app's module (a file path). */
  module: string;
  /** Packages to keep out of the bundle and install for Lambda instead. */
  external?: string[];
  architecture: "arm64" | "x86_64";
}

export interface Bundle {
  zip: Uint8Array;
  /** sha256 of the zip, hex. */
  hash: string;
  /** Packages installed into the zip rather than bundled. */
  installed: string[];
}

/** Never bundled: provided by Lambda, or faasade's own optional parts that never run there. */
const ALWAYS_EXTERNAL = ["@aws-sdk/*", "better-sqlite3", "tsx", "esbuild", "fauxqs", "vitest", "fflate"];
const FIXED_TIME = new Date("2020-01-01T00:00:00Z");

export async function bundle(options: BundleOptions): Promise<Bundle> {
  const esbuild = await import("esbuild").catch((cause: unknown) => {
    throw new ExecutionError("deploying to aws bundles with esbuild: npm i -D esbuild", { cause });
  });
  const { zipSync } = await import("fflate");
  const modulePath = resolve(options.module);
  /** Packages with native addons, by name: the version the project resolves where they are imported. */
  const natives = new Map<string, string | undefined>();
  const entry = [
    // Referenced, not just imported: a package marked "sideEffects": false would be dropped otherwise.
    `import * as app from ${JSON.stringify(modulePath)};`,
    "export const faasadeApp = app;",
    `import { handler as faasadeHandler, streamHandler } from "faasade/aws/runtime";`,
    "export const handler = faasadeHandler;",
    "export const stream = globalThis.awslambda?.streamifyResponse ? globalThis.awslambda.streamifyResponse(streamHandler) : streamHandler;",
  ].join("\n");
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: dirname(modulePath), sourcefile: "faasade-entry.mjs", loader: "js" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    outfile: "index.mjs",
    logLevel: "silent",
    // Function names are faasade's function names: minifiers and bundlers must not rename them.
    keepNames: true,
    external: [...ALWAYS_EXTERNAL, ...(options.external ?? [])],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: {
      js: 'import { createRequire as __faasadeRequire } from "node:module"; const require = __faasadeRequire(import.meta.url);',
    },
    plugins: [
      {
        name: "faasade-native-addons",
        setup(build) {
          // A package with a native addon cannot be bundled: it is installed for Lambda instead.
          build.onResolve({ filter: /^[^./]/ }, (args) => {
            const name = packageName(args.path);
            if (name === undefined || natives.has(name))
              return name === undefined ? undefined : { path: args.path, external: true };
            const dir = packageDir(name, args.resolveDir);
            if (dir !== undefined && isNative(dir)) {
              natives.set(name, (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string }).version);
              return { path: args.path, external: true };
            }
            return undefined;
          });
        },
      },
    ],
  });
  const code = result.outputFiles[0]?.contents;
  if (code === undefined) throw new ExecutionError(`bundling ${options.module} produced nothing`);
  const files: Record<string, [Uint8Array, { mtime: Date }]> = { "index.mjs": [code, { mtime: FIXED_TIME }] };
  for (const name of options.external ?? []) {
    const dir = packageDir(name, dirname(modulePath));
    natives.set(name, dir && (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string }).version);
  }
  const installed = [...natives.keys()].sort();
  if (installed.length > 0) {
    const specs = installed.map((name) => (natives.get(name) === undefined ? name : `${name}@${natives.get(name)}`));
    for (const [path, bytes] of installForLambda(specs, options.architecture)) {
      files[path] = [bytes, { mtime: FIXED_TIME }];
    }
  }
  const zip = zipSync(Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b))), { level: 9 });
  return { zip, hash: createHash("sha256").update(zip).digest("hex"), installed };
}

function packageName(specifier: string): string | undefined {
  if (specifier.startsWith("node:")) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function isNative(dir: string): boolean {
  if (existsSync(join(dir, "binding.gyp"))) return true;
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { gypfile?: boolean };
  return pkg.gypfile === true;
}

/** `npm install` of the packages (`name@version`), for Linux on Lambda's CPU. */
function installForLambda(specs: string[], architecture: "arm64" | "x86_64"): [string, Uint8Array][] {
  const dir = mkdtempSync(join(tmpdir(), "faasade-lambda-deps-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "faasade-lambda-deps", private: true }));
    execFileSync(
      "npm",
      [
        "install",
        "--omit=dev",
        "--no-audit",
        "--no-fund",
        "--os=linux",
        `--cpu=${architecture === "arm64" ? "arm64" : "x64"}`,
        ...specs,
      ],
      { cwd: dir, stdio: "pipe" },
    );
    const out: [string, Uint8Array][] = [];
    const walk = (at: string) => {
      for (const entry of readdirSync(at)) {
        const path = join(at, entry);
        if (statSync(path).isDirectory()) walk(path);
        else out.push([relative(dir, path).split("\\").join("/"), new Uint8Array(readFileSync(path))]);
      }
    };
    walk(join(dir, "node_modules"));
    return out;
  } catch (cause) {
    throw new ExecutionError(`installing ${specs.join(", ")} for Lambda (linux, ${architecture}) failed`, { cause });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
