/** Finds the module that called into faasade, from the stack: containers import that module. */
import { realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

// Only the core is skipped: modules elsewhere in the package (testing fixtures) define apps too.
const OWN_DIR = fileURLToPath(new URL(".", import.meta.url));

/** URL of the first module on the stack outside faasade itself, if any. */
export function callerModule(): string | undefined {
  const original = Error.prepareStackTrace;
  let sites: NodeJS.CallSite[] = [];
  try {
    Error.prepareStackTrace = (_, s) => s;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callerModule);
    sites = (holder.stack as NodeJS.CallSite[] | undefined) ?? [];
  } finally {
    Error.prepareStackTrace = original;
  }
  let bundled: string | undefined;
  for (const site of sites) {
    const file = site.getFileName();
    if (!file || file.startsWith("node:") || file.startsWith("internal/")) continue;
    const path = file.startsWith("file:") ? fileURLToPath(file) : file;
    if (path.startsWith(OWN_DIR)) {
      bundled ??= pathToFileURL(path).href;
      continue;
    }
    return pathToFileURL(path).href;
  }
  // Everything in one file (a bundle, as deployed to a cloud): that file defines the function.
  return bundled;
}

/** True when `moduleUrl` is the program's entry: `node file`, `tsx file` or `faasade run file`. */
export function isEntryModule(moduleUrl: string): boolean {
  const marked = (globalThis as Record<symbol, unknown>)[ENTRY];
  const entry = typeof marked === "string" ? marked : process.argv[1];
  if (!entry) return false;
  return samePath(moduleUrl, entry);
}

export const ENTRY = Symbol.for("faasade.entryModule");
/** Set once an entry module's localEntrypoint is scheduled: `faasade run` says so when none is. */
export const ENTRYPOINT_SCHEDULED = Symbol.for("faasade.entrypointScheduled");

function samePath(a: string, b: string): boolean {
  const norm = (p: string) => {
    const path = p.startsWith("file:") ? fileURLToPath(p) : p;
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  const pa = norm(a);
  const pb = norm(b);
  return pa === pb || pa.replace(/\.[cm]?[jt]s$/, "") === pb.replace(/\.[cm]?[jt]s$/, "");
}
