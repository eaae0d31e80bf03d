/**
 * A test double of the metadata server (not Google's) on 127.0.0.1: what Cloud Run and Compute
 * Engine give a process so that Application Default Credentials work without a key. With
 * `GCE_METADATA_HOST` naming it and `METADATA_SERVER_DETECTION=assume-present`, google-auth-library
 * in any process (a function's instance, a CLI, a test worker) takes access tokens and ID tokens
 * from here, as it would on the platform: ID tokens from the backend's signer, for its service account.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { IdTokenDouble } from "./id-tokens.js";

export interface MetadataDoubleOptions {
  tokens: IdTokenDouble;
  project: string;
  region: string;
  serviceAccount: string;
}

export interface MetadataDouble {
  /** `host:port`, as `GCE_METADATA_HOST` takes it. */
  readonly host: string;
  /** Requests served, by path (without the query). */
  readonly calls: Record<string, number>;
  close(): Promise<void>;
}

const BASE = "/computeMetadata/v1/";
const PROJECT_NUMBER = "123456789012";

export async function startMetadataDouble(options: MetadataDoubleOptions): Promise<MetadataDouble> {
  const calls: Record<string, number> = {};
  const account = (name: string) => name === "default" || name === options.serviceAccount;
  const answers: [RegExp, (m: RegExpExecArray, query: URLSearchParams) => Promise<string | object | undefined>][] = [
    [/^project\/project-id$/, async () => options.project],
    [/^project\/numeric-project-id$/, async () => PROJECT_NUMBER],
    [/^instance\/region$/, async () => `projects/${PROJECT_NUMBER}/regions/${options.region}`],
    [/^universe\/universe-domain$/, async () => "googleapis.com"],
    [/^instance\/service-accounts\/([^/]+)\/email$/, async (m) => (account(m[1] as string) ? options.serviceAccount : undefined)],
    [
      /^instance\/service-accounts\/([^/]+)\/token$/,
      async (m) =>
        account(m[1] as string)
          ? { access_token: `offline-access-${options.serviceAccount}`, expires_in: 3599, token_type: "Bearer" }
          : undefined,
    ],
    [
      /^instance\/service-accounts\/([^/]+)\/identity$/,
      async (m, query) => {
        const audience = query.get("audience");
        if (!account(m[1] as string) || !audience) return undefined;
        return options.tokens.idToken(audience, options.serviceAccount);
      },
    ],
  ];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://metadata");
    const path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length).replace(/\/$/, "") : url.pathname;
    calls[path] = (calls[path] ?? 0) + 1;
    res.setHeader("metadata-flavor", "Google");
    // The real server refuses requests without the header: it is what keeps SSRF off it.
    if (req.headers["metadata-flavor"] !== "Google") return void res.writeHead(403).end("Missing Metadata-Flavor header");
    for (const [pattern, answer] of answers) {
      const m = pattern.exec(path);
      if (m === null) continue;
      const body = await answer(m, url.searchParams);
      if (body === undefined) break;
      const json = typeof body === "object";
      res.writeHead(200, { "content-type": json ? "application/json" : "application/text" });
      return void res.end(json ? JSON.stringify(body) : body);
    }
    res.writeHead(404, { "content-type": "text/plain" }).end(`no metadata at ${path}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
