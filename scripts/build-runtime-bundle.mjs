// After tsc: bundles dist/src/providers/local/runtime-entry.js into runtime.bundle.js beside it,
// the one file a local container loads (src/providers/local/runtime-target.ts; why and what each
// choice below saves: docs/performance.md, "The first call: one file").
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const dir = fileURLToPath(new URL("../dist/src/providers/local/", import.meta.url));

/** Packages stay imports of their own, but cbor-x, which every container runs, is inlined. */
const packagesOutside = {
  name: "packages-outside",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:") || args.path === "cbor-x/encode") return undefined;
      return { path: args.path, external: true };
    });
  },
};

/** A lazy `import("./x.js")` (the deployment server, the SQLite store) stays lazy, its path now relative to the bundle. */
const lazyStaysLazy = {
  name: "lazy-stays-lazy",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\//, namespace: "file" }, (args) => {
      if (args.kind !== "dynamic-import") return undefined;
      const target = relative(dir, resolve(args.resolveDir, args.path)).split("\\").join("/");
      return { path: target.startsWith(".") ? target : `./${target}`, external: true };
    });
  },
};

/**
 * Node builtins through `require`: an ES module's `import ... from "node:fs"` makes Node build the
 * builtin's ES namespace, reading every export, which loads what the lazy ones hide (fs's streams
 * and promises, ~4 ms of a container's start).
 */
const builtinsByRequire = {
  name: "builtins-by-require",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "import-statement" && args.namespace === "file" ? { path: args.path, namespace: "builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

await build({
  entryPoints: [`${dir}runtime-entry.js`],
  outfile: `${dir}runtime.bundle.js`,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  banner: {
    js: 'import { createRequire as __faasadeRequire } from "node:module"; const require = __faasadeRequire(import.meta.url);',
  },
  // package.json says "sideEffects": false for users' bundlers; this bundle must keep the runtime's start.
  ignoreAnnotations: true,
  sourcemap: true,
  plugins: [packagesOutside, lazyStaysLazy, builtinsByRequire],
  logLevel: "warning",
});
