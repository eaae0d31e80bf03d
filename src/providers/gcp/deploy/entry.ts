/**
 * The Google Cloud side of the shared bundler (src/cloud/bundle.ts): the bundle's entry, which
 * registers faasade's HTTP function with functions-framework, and its package.json. Cloud
 * Functions' Node.js buildpack runs `npm install` on that package.json and starts
 * functions-framework with the entry point, so the framework and the Google SDKs the runtime
 * loads are listed there (installed by Google, neither bundled nor shipped in the zip).
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BundleOptions } from "../../../cloud/bundle.js";
import { packageDir, readPackage } from "../../../cloud/bundle-install.js";
import { ENTRY_POINT } from "./function.js";

/**
 * What the buildpack installs, at the versions faasade is tested with; a version installed in
 * the app's project (or beside faasade) is used instead, so the cloud runs what was tested locally.
 */
const INSTALLED_BY_GOOGLE: Record<string, string> = {
  "@google-cloud/functions-framework": "5.0.5",
  "@google-cloud/storage": "7.22.0",
  "@google-cloud/tasks": "6.3.0",
  "@google-cloud/functions": "4.2.2",
  "google-auth-library": "10.9.1",
};

/**
 * `index.mjs`: the app's module is imported through the runtime's `appModule` as the bundle
 * loads (esbuild inlines the literal import as a lazy module), so a module that throws as it
 * imports answers INIT_FAILURE instead of an instance that cannot start; `registerFaasade`
 * registers the entry point "faasade" with the deployed defaults (the store and queue clients
 * for Cloud Storage and Cloud Tasks, from the FAASADE_* variables deploy sets).
 */
export function gcpEntry(modulePath: string): string {
  return [
    'import { appModule, registerFaasade } from "faasade/gcp/runtime";',
    `appModule(() => import(${JSON.stringify(modulePath)}));`,
    `registerFaasade({ entryPoint: ${JSON.stringify(ENTRY_POINT)} });`,
  ].join("\n");
}

/**
 * The bundle's package.json: ESM, `index.mjs`, and its dependencies pinned: the packages Google
 * installs, and those shipped in the zip's node_modules (native addons, `external`), which the
 * buildpack's `npm install` would otherwise remove as extraneous.
 */
export function gcpPackageJson(modulePath: string, shipped: ReadonlyMap<string, string | undefined> = new Map()): string {
  const from = [dirname(resolve(modulePath)), dirname(fileURLToPath(import.meta.url))];
  const versionOf = (dir: string | undefined) => (dir === undefined ? undefined : readPackage(dir).version);
  const google = Object.entries(INSTALLED_BY_GOOGLE).map(([name, pinned]) => {
    const version = versionOf(from.map((at) => packageDir(name, at)).find((d) => d !== undefined));
    return [name, typeof version === "string" ? version : pinned] as const;
  });
  const own = [...shipped].map(([name, dir]) => [name, String(versionOf(dir) ?? "*")] as const);
  const dependencies = Object.fromEntries([...google, ...own].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ name: "faasade-function", private: true, type: "module", main: "index.mjs", dependencies }, null, 2)}\n`;
}

/** The bundle of `module` for Cloud Functions (x86-64 Linux). */
export function gcpBundle(module: string, external?: string[]): BundleOptions {
  return {
    module,
    entry: gcpEntry,
    platform: { os: "linux", cpu: "x64" },
    provided: Object.keys(INSTALLED_BY_GOOGLE),
    files: (shipped) => ({ "package.json": gcpPackageJson(module, shipped) }),
    ...(external ? { external } : {}),
  };
}
