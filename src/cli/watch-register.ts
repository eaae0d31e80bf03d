/**
 * `--import`ed into each deploy that `serve --watch` runs: registers the module hooks that
 * record every file the deploy imports (watch-hooks.ts), into the file FAASADE_WATCH_LOADED names.
 */
import { register } from "node:module";

const out = process.env.FAASADE_WATCH_LOADED;
if (out) register("./watch-hooks.js", import.meta.url, { data: { out } });
