/**
 * The dashboard's pages: one HTML shell for every page path (the client routes), and its two assets,
 * app.js and style.css, read from src/dashboard/assets/ (the package ships src/). No framework and no
 * build step: see docs/dashboard.md, "Pages".
 */
import { existsSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";

/** Same-origin only; no inline script or style, no frames, no other site. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>faasade dashboard</title>
<link rel="stylesheet" href="/dashboard/assets/style.css">
<script type="module" src="/dashboard/assets/app.js"></script>
</head>
<body>
<header><a href="/dashboard" data-nav>faasade dashboard</a> <span id="live" aria-live="polite">connecting…</span></header>
<div id="message" role="alert" hidden></div>
<main id="view"><p>Loading…</p></main>
</body>
</html>
`;

const TYPES: Record<string, string> = {
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

/** From dist/src/dashboard/ the assets are in the shipped src/; from src/ (tsx) they are beside this file. */
function assetDir(): string {
  for (const rel of ["./assets/", "../../../src/dashboard/assets/"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}app.js`)) return dir;
  }
  throw new Error("the dashboard's assets (src/dashboard/assets/) are missing from this installation");
}

const cache = new Map<string, string>();
function asset(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(`${assetDir()}${name}`, "utf8");
    cache.set(name, text);
  }
  return text;
}

/** Whether `parts` (the path under /dashboard, decoded) is a page the client draws. */
export function isPage(parts: readonly string[]): boolean {
  if (parts.length === 1) return true;
  if (parts[1] === "calls") return parts.length === 3;
  return parts[1] === "functions" && parts.length === 5;
}

export function sendShell(res: ServerResponse): void {
  send(res, "text/html; charset=utf-8", SHELL);
}

/** True when `name` is an asset (and it was sent). */
export function sendAsset(res: ServerResponse, name: string | undefined): boolean {
  const type = name === undefined ? undefined : TYPES[name];
  if (name === undefined || type === undefined) return false;
  send(res, type, asset(name));
  return true;
}

function send(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, {
    "content-type": type,
    "cache-control": "no-store",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  res.end(body);
}
