/**
 * Random bytes for ids and file names. node:crypto is loaded with this module, except in a local
 * container, where it waits for the first use: a container that makes no call of its own never
 * loads it (about 5 ms of its start), and a caller's first call does not pay for it.
 */
import { createRequire } from "node:module";
import { inContainer } from "./registry.js";

let crypto: typeof import("node:crypto") | undefined;
const load = () => (crypto ??= createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto"));
if (!inContainer()) load();

/** `bytes` random bytes as lowercase hex. */
export const randomHex = (bytes: number): string => load().randomBytes(bytes).toString("hex");
