// The dashboard's asset budget (issue 15: at most 150 KB gzip in all): each asset's bytes and gzip bytes.
// Usage: node scripts/dashboard-size.mjs (after npx tsc -p tsconfig.build.json, for the shell).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const dir = new URL("../src/dashboard/assets/", import.meta.url);
const shell = readFileSync(new URL("../src/dashboard/pages.ts", import.meta.url), "utf8").match(/const SHELL = `([^`]*)`/)?.[1];
const assets = [
  ["shell (HTML)", shell ?? ""],
  ["app.js", readFileSync(new URL("app.js", dir), "utf8")],
  ["style.css", readFileSync(new URL("style.css", dir), "utf8")],
];
let raw = 0;
let gz = 0;
for (const [name, text] of assets) {
  const size = Buffer.byteLength(text);
  const zipped = gzipSync(text, { level: 9 }).byteLength;
  raw += size;
  gz += zipped;
  console.log(`${name.padEnd(14)} ${String(size).padStart(7)} B  ${String(zipped).padStart(6)} B gzip`);
}
console.log(`${"total".padEnd(14)} ${String(raw).padStart(7)} B  ${String(gz).padStart(6)} B gzip (budget 153600)`);
if (gz > 150 * 1024) process.exitCode = 1;
