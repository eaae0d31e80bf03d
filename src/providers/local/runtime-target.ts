/**
 * The file a container's process starts from. Normally `runtime.bundle.js`, one file holding the
 * runtime, `faasade` and `faasade/local`, which the app module's own `import "faasade"` reaches too
 * through the `faasade-container` export condition: Node then loads one file, not ~50 (the first
 * call's cost, docs/performance.md). The unbundled `runtime.js` when the bundle is absent or older
 * than tsc's output (a build by tsc alone: the bundle would run old code), or when the module is part
 * of faasade's own code (faasade/testing's fixtures), which imports the core by relative path and so
 * must share the runtime's unbundled copy of it.
 *
 * This file stays in this folder, as the bundle does, so that the URLs below hold in both.
 */
import { statSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Makes `faasade` and `faasade/local` resolve to the bundle in a container started from it. */
export const CONTAINER_CONDITION = "--conditions=faasade-container";

const BUNDLE = fileURLToPath(new URL("./runtime.bundle.js", import.meta.url));
const RUNTIME = fileURLToPath(new URL("./runtime.js", import.meta.url));
/** dist/src/ (or src/ under tsx): modules here import the core by relative path. */
const OWN_SOURCES = new URL("../../", import.meta.url).href;

/** The CLI's entry, which runs a deployment server. */
export const CLI_MAIN = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

let bundled: boolean | undefined;

/** The file to fork for a container of the function defined in `moduleUrl`, and the flags it needs. */
export function runtimeFor(moduleUrl: string): { file: string; flags: string[] } {
  bundled ??= isCurrent(BUNDLE, RUNTIME);
  if (!bundled || isOwnSource(moduleUrl)) return { file: RUNTIME, flags: [] };
  return { file: BUNDLE, flags: [CONTAINER_CONDITION] };
}

/** Whether `bundle` exists and was written no earlier than `source`, one of its inputs. */
export function isCurrent(bundle: string, source: string): boolean {
  try {
    return statSync(bundle).mtimeMs >= statSync(source).mtimeMs;
  } catch {
    return false;
  }
}

function isOwnSource(moduleUrl: string): boolean {
  const url = moduleUrl.startsWith("file:") ? moduleUrl : pathToFileURL(moduleUrl).href;
  return url.startsWith(OWN_SOURCES);
}
