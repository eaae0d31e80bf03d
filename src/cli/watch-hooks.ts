/**
 * Module hooks (node:module register) that record the files a deploy imports, one file URL a
 * line: what `serve --watch` watches. Dependencies (node_modules) and faasade's own files are left
 * out; so are built-ins and data: URLs. They run on Node's hooks thread.
 */
import { appendFileSync } from "node:fs";
import type { InitializeHook, ResolveHook } from "node:module";

/** faasade's own compiled sources (dist/src/), wherever the package is installed. */
const OWN = new URL("../", import.meta.url).href;
let out: string | undefined;
const seen = new Set<string>();

export const initialize: InitializeHook<{ out: string }> = (data) => {
  out = data.out;
};

export const resolve: ResolveHook = async (specifier, context, next) => {
  const resolved = await next(specifier, context);
  const url = resolved.url.replace(/[?#].*$/, ""); // a loader's own query (tsx's) is not part of the file
  if (out !== undefined && url.startsWith("file:") && !seen.has(url) && !url.includes("/node_modules/") && !url.startsWith(OWN)) {
    seen.add(url);
    appendFileSync(out, `${url}\n`);
  }
  return resolved;
};
