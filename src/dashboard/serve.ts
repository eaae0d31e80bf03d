/**
 * A dashboard served on its own (a cloud's, from `faasade dashboard --provider <cloud>`): an HTTP
 * server on 127.0.0.1 with a token made for this run, which the login URL carries. The local
 * deployment server mounts dashboardHandler itself, behind its own token.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dashboardHandler } from "./handler.js";
import type { DashboardSource } from "./source.js";

export interface ServedDashboard {
  /** The login URL: `http://127.0.0.1:<port>/dashboard?token=...`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

export async function serveDashboard(source: DashboardSource, { port = 0 }: { port?: number } = {}): Promise<ServedDashboard> {
  const token = randomBytes(24).toString("base64url");
  const expected = digest(token);
  const handle = dashboardHandler(source, (given) => timingSafeEqual(digest(given), expected));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const [area, id, ...rest] = url.pathname.split("/").filter(Boolean);
    if (area === "dashboard") return void handle(req, res, url);
    // API.md's /calls/<id>: the dashboard's call page, whose auth decides there.
    if (area === "calls" && id !== undefined && rest.length === 0) {
      return void res.writeHead(303, { location: `/dashboard${url.pathname}${url.search}`, "cache-control": "no-store" }).end();
    }
    res
      .writeHead(404, { "content-type": "application/json" })
      .end(JSON.stringify({ error: `no page ${url.pathname.slice(0, 200)}` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/dashboard?token=${token}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the live feeds stay open otherwise
      }),
  };
}
