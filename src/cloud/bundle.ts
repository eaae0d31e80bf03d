/**
 * Bundles an app's module into one zip for a cloud function, shared by every cloud provider: the
 * provider passes its entry (the source of the bundle's `index.mjs`, which imports its runtime
 * and the app) and the packages its runtime provides. esbuild, imported lazily, inlines the rest.
 * Packages that cannot be inlined (native addons, and those marked external) are installed for
 * the target platform (bundle-install.ts) and shipped in the zip's node_modules, after a check
 * that every native binary is for the target CPU (bundle-arch.ts).
 *
 * The zip is deterministic: the same code and lockfile give the same bytes on any machine (fixed
 * times, sorted entries, no install scripts, no paths of the machine), and its hash is how a
 * second deploy knows it has nothing to do.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ExecutionError, InvalidError } from "../core/errors.js";
import { type Cpu, assertNativeArchitecture } from "./bundle-arch.js";
import { type ProjectPackages, installForPlatform, packageDir, readPackage } from "./bundle-install.js";

export interface BundlePlatform {
  os: "linux";
  cpu: Cpu;
}

export interface BundleOptions {
  /** The app's module (a file path). */
  module: string;
  /** The source of the bundle's `index.mjs`, given the app module's absolute path. */
  entry: (modulePath: string) => string;
  /** Where the bundle runs: native packages are installed for it. */
  platform: BundlePlatform;
  /** Packages to keep out of the bundle and install for the platform instead. */
  external?: string[];
  /** Packages the cloud's runtime provides (e.g. `@aws-sdk/*`): neither bundled nor shipped. */
  provided?: string[];
  /**
   * More files for the zip beside `index.mjs`, by path (a `package.json` the platform reads),
   * given the packages shipped in node_modules (name → the project's directory of it).
   */
  files?: (installed: ReadonlyMap<string, string | undefined>) => Record<string, string>;
}

export interface Bundle {
  zip: Uint8Array;
  /** sha256 of the zip, hex. */
  hash: string;
  /** Packages installed into the zip rather than bundled. */
  installed: string[];
}

/** faasade's own optional parts, which never run in a cloud function. */
const NEVER_SHIPPED = ["better-sqlite3", "tsx", "esbuild", "fauxqs", "vitest", "fflate"];
const FIXED_TIME = new Date("2020-01-01T00:00:00Z");
const CPUS: readonly Cpu[] = ["arm64", "x64"];

export async function bundle(options: BundleOptions): Promise<Bundle> {
  checkPlatform(options.platform);
  const modulePath = resolve(options.module);
  /** Packages to install, found where they are imported: name → the directory they resolve to. */
  const natives: ProjectPackages = new Map();
  const files = new Map<string, Uint8Array>([["index.mjs", await buildIndex(options, modulePath, natives)]]);
  for (const name of options.external ?? []) natives.set(name, packageDir(name, dirname(modulePath)));
  if (natives.size > 0) {
    const installed = installForPlatform(natives, options.platform.cpu);
    assertNativeArchitecture(installed, options.platform.cpu);
    for (const [path, bytes] of installed) files.set(path, bytes);
  }
  for (const [path, text] of Object.entries(options.files?.(natives) ?? {})) files.set(path, new TextEncoder().encode(text));
  const zip = await deterministicZip(files);
  return { zip, hash: createHash("sha256").update(zip).digest("hex"), installed: [...natives.keys()].sort() };
}

/** esbuild's one-file bundle of the provider's entry; the native packages it meets go to `natives`. */
async function buildIndex(options: BundleOptions, modulePath: string, natives: ProjectPackages): Promise<Uint8Array> {
  const esbuild = await import("esbuild").catch((cause: unknown) => {
    throw new ExecutionError("deploying to a cloud bundles with esbuild: npm i -D esbuild", { cause });
  });
  const result = await esbuild
    .build({
      stdin: {
        contents: options.entry(modulePath),
        resolveDir: dirname(modulePath),
        sourcefile: "faasade-entry.mjs",
        loader: "js",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      outfile: "index.mjs",
      // The comments naming each inlined file are relative to this: the project, not the shell's cwd.
      absWorkingDir: projectRoot(modulePath),
      logLevel: "silent",
      // Function names are faasade's function names: minifiers and bundlers must not rename them.
      keepNames: true,
      external: [...NEVER_SHIPPED, ...(options.provided ?? []), ...(options.external ?? [])],
      // CommonJS dependencies inside an ESM bundle still call require().
      banner: {
        js: 'import { createRequire as __faasadeRequire } from "node:module"; const require = __faasadeRequire(import.meta.url);',
      },
      plugins: [nativeAddons(natives)],
    })
    .catch((cause: { errors?: { text: string }[] }) => {
      throw new ExecutionError(`bundling ${options.module} failed: ${cause.errors?.[0]?.text ?? String(cause)}`, { cause });
    });
  const code = result.outputFiles[0]?.contents;
  if (code === undefined) throw new ExecutionError(`bundling ${options.module} produced nothing`);
  return code;
}

/** The same files give the same bytes: entries in code-unit order (not the locale's), one fixed time. */
async function deterministicZip(files: Map<string, Uint8Array>): Promise<Uint8Array> {
  const { zipSync } = await import("fflate");
  const entries = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return zipSync(Object.fromEntries(entries.map(([path, bytes]) => [path, [bytes, { mtime: FIXED_TIME }]])), { level: 9 });
}

function checkPlatform(platform: BundlePlatform): void {
  if (platform?.os !== "linux") {
    throw new InvalidError(`bundle platform.os must be "linux", got ${JSON.stringify(platform?.os)}`);
  }
  if (!CPUS.includes(platform.cpu)) {
    throw new InvalidError(`bundle platform.cpu must be "arm64" or "x64", got ${JSON.stringify(platform.cpu)}`);
  }
}

type EsbuildPlugin = NonNullable<import("esbuild").BuildOptions["plugins"]>[number];

/** A package with a native addon cannot be inlined: it is kept external and installed instead. */
function nativeAddons(natives: ProjectPackages): EsbuildPlugin {
  return {
    name: "faasade-native-addons",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = packageName(args.path);
        if (name === undefined) return undefined;
        if (natives.has(name)) return { path: args.path, external: true };
        const dir = packageDir(name, args.resolveDir);
        if (dir === undefined || !isNative(dir)) return undefined;
        natives.set(name, dir);
        return { path: args.path, external: true };
      });
    },
  };
}

function packageName(specifier: string): string | undefined {
  if (specifier.startsWith("node:")) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The nearest directory above the module with a package.json (the module's own, if none). */
function projectRoot(modulePath: string): string {
  for (let dir = dirname(modulePath); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return dirname(modulePath);
  }
}

function isNative(dir: string): boolean {
  return readPackage(dir).gypfile === true || existsSync(join(dir, "binding.gyp"));
}
