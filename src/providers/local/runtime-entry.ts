/**
 * What esbuild bundles into `runtime.bundle.js` (scripts/build-runtime-bundle.mjs): the container
 * runtime with everything `faasade` and `faasade/local` export, in one file. A container started
 * from it resolves the app module's `import "faasade"` and `import "faasade/local"` to this same
 * file (the `faasade-container` export condition), so the runtime and the app share one registry,
 * one input context and one set of error classes, and Node loads one file instead of ~50.
 */
export * from "../../index.js";
export * from "./index.js";
import "./runtime.js";
