/**
 * A managed-identity endpoint test double (not an emulator), on 127.0.0.1: what App Service gives every
 * function app (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`), and what `DefaultAzureCredential` asks for a token
 * when those variables are set. So every process of the offline backend (an instance, a CLI, a test
 * worker) gets ARM credentials as a deployed app does, without reaching Entra ID.
 */
import { randomBytes } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface IdentityDouble {
  /** The variables that point `DefaultAzureCredential` here (and away from any other credential). */
  env: Record<string, string>;
  /** Tokens handed out, by resource. */
  readonly issued: Record<string, number>;
  close(): Promise<void>;
}

/** The token every request gets: the ARM stand-in checks that one is sent, not its value. */
export const LOOPBACK_TOKEN = "loopback-test-token";

export async function startIdentityDouble(): Promise<IdentityDouble> {
  const secret = randomBytes(16).toString("hex");
  const issued: Record<string, number> = {};
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const resource = url.searchParams.get("resource");
    if (req.headers["x-identity-header"] !== secret)
      return json(res, 401, { error: "the X-IDENTITY-HEADER is missing or wrong" });
    if (resource === null) return json(res, 400, { error: "no resource" });
    issued[resource] = (issued[resource] ?? 0) + 1;
    const expiresOn = Math.floor(Date.now() / 1000) + 3600;
    json(res, 200, { access_token: LOOPBACK_TOKEN, expires_on: String(expiresOn), resource, token_type: "Bearer" });
  };
  const server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
  return {
    env: {
      IDENTITY_ENDPOINT: url,
      IDENTITY_HEADER: secret,
      // No other credential of the user's may be found first (DefaultAzureCredential tries the environment's).
      AZURE_TENANT_ID: "",
      AZURE_CLIENT_ID: "",
      AZURE_CLIENT_SECRET: "",
      AZURE_FEDERATED_TOKEN_FILE: "",
    },
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}
