/**
 * The Azure side of the shared bundler (src/cloud/bundle.ts): the bundle's entry, which registers
 * faasade's functions with `@azure/functions` (v4 model), its package.json, and each function app's
 * host.json. The Azure SDKs the runtime loads are not bundled: they are the package.json's pinned
 * dependencies, installed by the platform's remote build (Flex OneDeploy with RemoteBuild=true; Premium's
 * build during zip deploy), as the Functions host expects `@azure/functions` in node_modules; the zip
 * stays small and the same for every function of an app.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Bundle, BundleOptions } from "../../../cloud/bundle.js";
import { packageDir, readPackage } from "../../../cloud/bundle-install.js";
import type { AzureSettings } from "./function-options.js";

/**
 * What the remote build installs, at the versions faasade is tested with; a version installed in the
 * app's project (or beside faasade) is used instead, so the cloud runs what was tested locally.
 */
const INSTALLED_BY_AZURE: Record<string, string> = {
  "@azure/functions": "4.16.5",
  "@azure/storage-blob": "12.32.0",
  "@azure/storage-queue": "12.30.0",
  "@azure/identity": "4.13.1",
  "@azure/arm-appservice": "19.0.0",
};
/**
 * Kept out of the bundle and not installed: the host's own module, and what only a deploy uses (the
 * clients make it lazily, so a function never loads it).
 */
const NOT_INSTALLED = ["@azure/functions-core", "@azure/arm-storage"];

/** The extension bundle the host loads the storage-queue trigger from (v4, as Flex requires). */
const EXTENSION_BUNDLE = { id: "Microsoft.Azure.Functions.ExtensionBundle", version: "[4.*, 5.0.0)" };
/** The host moves a message to `<queue>-poison` after this many deliveries (a crash of the host only: faasade retries itself). */
export const MAX_DEQUEUE_COUNT = 5;

/**
 * `index.mjs`: the app's module is imported through the runtime's `appModule` as the bundle loads, so
 * a module that throws as it imports answers INIT_FAILURE instead of a host that cannot start;
 * `registerFaasade` registers faasade's HTTP and queue functions from the FAASADE_* settings deploy sets.
 */
export function azureEntry(modulePath: string): string {
  return [
    'import { appModule, registerFaasade } from "faasade/azure/runtime";',
    `appModule(() => import(${JSON.stringify(modulePath)}));`,
    "registerFaasade();",
  ].join("\n");
}

/** The bundle's package.json: ESM, `index.mjs` as "main" (the v4 model's entry), and its dependencies pinned. */
export function azurePackageJson(modulePath: string, shipped: ReadonlyMap<string, string | undefined> = new Map()): string {
  const from = [dirname(resolve(modulePath)), dirname(fileURLToPath(import.meta.url))];
  const versionOf = (dir: string | undefined) => (dir === undefined ? undefined : readPackage(dir).version);
  const azure = Object.entries(INSTALLED_BY_AZURE).map(([name, pinned]) => {
    const version = versionOf(from.map((at) => packageDir(name, at)).find((d) => d !== undefined));
    return [name, typeof version === "string" ? version : pinned] as const;
  });
  const own = [...shipped].map(([name, dir]) => [name, String(versionOf(dir) ?? "*")] as const);
  const dependencies = Object.fromEntries([...azure, ...own].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ name: "faasade-function", private: true, type: "module", main: "index.mjs", dependencies }, null, 2)}\n`;
}

/**
 * A function app's host.json: no route prefix (faasade's entry is `/faasade`), the function's timeout
 * with a margin, and the queue trigger as faasade's consumer expects it: at most min(32, maxInputs)
 * messages at once, no second batch while one runs, base64 messages, and a message handed back shown
 * again at once (faasade's own retries set their delay by re-enqueueing).
 */
export function hostJson(s: AzureSettings): string {
  const host = {
    version: "2.0",
    extensionBundle: EXTENSION_BUNDLE,
    functionTimeout: s.functionTimeout,
    extensions: {
      http: { routePrefix: "" },
      queues: {
        batchSize: s.queueBatchSize,
        newBatchThreshold: 0,
        maxDequeueCount: MAX_DEQUEUE_COUNT,
        visibilityTimeout: "00:00:00",
        messageEncoding: "base64",
      },
    },
  };
  return `${JSON.stringify(host, null, 2)}\n`;
}

/** The bundle of `module` for Azure Functions on Linux (x86-64). */
export function azureBundle(module: string, external?: string[]): BundleOptions {
  return {
    module,
    entry: azureEntry,
    platform: { os: "linux", cpu: "x64" },
    provided: [...Object.keys(INSTALLED_BY_AZURE), ...NOT_INSTALLED],
    files: (shipped) => ({ "package.json": azurePackageJson(module, shipped) }),
    ...(external ? { external } : {}),
  };
}

const FIXED_TIME = new Date("2020-01-01T00:00:00Z");

/**
 * The app's bundle with one function app's host.json added: a zip as deterministic as the bundle's
 * (sorted entries, fixed times), whose hash is the code hash that function app is tagged with.
 */
export async function withHostJson(code: Bundle, s: AzureSettings): Promise<Bundle> {
  const { unzipSync, zipSync } = await import("fflate");
  const files: Record<string, Uint8Array> = { ...unzipSync(code.zip), "host.json": new TextEncoder().encode(hostJson(s)) };
  const entries = Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const zip = zipSync(Object.fromEntries(entries.map(([path, bytes]) => [path, [bytes, { mtime: FIXED_TIME }]])), { level: 9 });
  const { createHash } = await import("node:crypto");
  return { zip, hash: createHash("sha256").update(zip).digest("hex"), installed: code.installed };
}
