/**
 * Installs the packages a bundle cannot inline (native addons, and those marked external) for
 * the cloud's platform rather than this machine's, and returns the files to ship.
 *
 * npm runs with `--ignore-scripts`: an install script (node-gyp, prebuild downloaders) would
 * compile or fetch for the machine running npm, leaving a binary of the wrong architecture and
 * build residue holding this machine's paths. `--os/--cpu/--libc` make npm choose the optional
 * platform packages (e.g. `@cbor-extract/cbor-extract-linux-arm64`) for the target instead, and
 * every version in the tree is pinned to the one the project resolves, so the files depend on
 * the project's lockfile, not on when or where the bundle is made.
 */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { ExecutionError } from "../core/errors.js";
import type { Cpu } from "./bundle-arch.js";

/** Packages to install: name → the directory the project resolves it to, if it has it. */
export type ProjectPackages = Map<string, string | undefined>;

/** `npm install` of `packages` for linux on `cpu`; returns zip path (`node_modules/...`) → bytes. */
export function installForPlatform(packages: ProjectPackages, cpu: Cpu): Map<string, Uint8Array> {
  const names = [...packages.keys()].sort();
  const dir = mkdtempSync(join(tmpdir(), "faasade-bundle-deps-"));
  try {
    const version = (name: string) => {
      const at = packages.get(name);
      return (at === undefined ? undefined : readPackage(at).version) ?? "*";
    };
    const dependencies = Object.fromEntries(names.map((name) => [name, version(name)]));
    const roots = [...packages.values()].filter((at) => at !== undefined);
    const overrides = Object.fromEntries(
      [...pinnedVersions(roots)].filter(([name]) => !packages.has(name)).sort(([a], [b]) => a.localeCompare(b)),
    );
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "faasade-bundle-deps", private: true, dependencies, overrides }),
    );
    execFileSync("npm", npmInstallArgs(cpu), { cwd: dir, stdio: "pipe" });
    const files = new Map<string, Uint8Array>();
    walk(join(dir, "node_modules"), (path) => files.set(relative(dir, path).split("\\").join("/"), readFileSync(path)));
    return shippable(files, cpu);
  } catch (cause) {
    const stderr = (cause as { stderr?: Buffer }).stderr?.toString().trim();
    throw new ExecutionError(
      `installing ${names.join(", ")} for linux ${cpu} failed${stderr ? `: ${stderr.split("\n").slice(-3).join(" ")}` : ""}`,
      { cause },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The `npm` command line that installs a package.json's dependencies for linux on `cpu`. */
export function npmInstallArgs(cpu: Cpu): string[] {
  return [...NPM_INSTALL, `--cpu=${cpu}`];
}

const NPM_INSTALL = [
  "install",
  "--ignore-scripts",
  "--os=linux",
  // Lambda, Cloud Functions and Azure Functions all run glibc Linux.
  "--libc=glibc",
  // Whatever the user's npmrc says: the platform packages are optional dependencies.
  "--include=optional",
  "--omit=dev",
  "--install-strategy=hoisted",
  "--no-bin-links",
  "--no-package-lock",
  "--no-audit",
  "--no-fund",
  "--loglevel=error",
];

/**
 * The versions the project resolves for the packages in `roots` (their directories) and all they
 * depend on, each looked up from the package that depends on it, as node would. A name found at
 * two versions is left to npm (one flat override cannot say both); a dependency this machine
 * lacks (another platform's optional package) is left to its parent's spec.
 */
export function pinnedVersions(roots: string[]): Map<string, string> {
  const found = new Map<string, string | null>();
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = readPackage(dir);
    if (pkg.name !== undefined && pkg.version !== undefined) {
      const known = found.get(pkg.name);
      found.set(pkg.name, known === undefined || known === pkg.version ? pkg.version : null);
    }
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) {
      const at = packageDir(dep, dir);
      if (at !== undefined) visit(at);
    }
  };
  for (const dir of roots) visit(dir);
  return new Map([...found].filter((entry): entry is [string, string] => entry[1] !== null));
}

interface PackageJson {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  gypfile?: boolean;
}

export function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
}

/** Where node finds package `name` from directory `from`. */
export function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function walk(at: string, onFile: (path: string) => void): void {
  for (const entry of readdirSync(at).sort()) {
    const path = join(at, entry);
    const stat = lstatSync(path);
    if (stat.isDirectory()) walk(path, onFile);
    else if (stat.isFile()) onFile(path);
  }
}

/** A package's `build/` that node-gyp made (it holds the Makefile and a config.gypi naming this machine's paths). */
const GYP_RESIDUE = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+\/build\/)(?:Makefile|config\.gypi)$/;
/** prebuildify's per-platform folders: `prebuilds/<os>-<cpu>[+<cpu>...]/`. */
const PREBUILDS = /(?:^|\/)prebuilds\/([a-z0-9]+)-([a-z0-9+]+)\//;

/**
 * Drops what the target never loads and what would make the zip depend on this machine: npm's
 * own records (`.package-lock.json`, `.bin`), node-gyp build folders, and prebuilt binaries of
 * other platforms that some packages ship side by side.
 */
export function shippable(files: Map<string, Uint8Array>, cpu: Cpu): Map<string, Uint8Array> {
  const residue = [...files.keys()].flatMap((path) => GYP_RESIDUE.exec(path)?.[1] ?? []);
  const keep = (path: string) => {
    if (path.endsWith("/.package-lock.json") || path.includes("/.bin/")) return false;
    if (residue.some((dir) => path.startsWith(dir))) return false;
    const prebuild = PREBUILDS.exec(path);
    return prebuild === null || (prebuild[1] === "linux" && (prebuild[2] ?? "").split("+").includes(cpu));
  };
  return new Map([...files].filter(([path]) => keep(path)));
}
