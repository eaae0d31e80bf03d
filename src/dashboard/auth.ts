/**
 * Who may use the dashboard: the deployment's own token (see docs/dashboard.md, "Auth"). A login
 * URL's `?token=` becomes an HttpOnly, SameSite=Strict cookie and is dropped from the address;
 * every other request carries the cookie (or an `Authorization: Bearer` header). A POST must come
 * from the dashboard's own origin, with the cookie: another site's page cannot make one.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { DashboardHttpError } from "./params.js";

const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})$/;

/** One cookie per port: a browser sends 127.0.0.1's cookies to every port, and two dashboards (local, a cloud's) may be open. */
export const cookieName = (host: string): string => `faasade_dashboard_${LOOPBACK.exec(host)?.[2] ?? "0"}`;

/** Whether `token` is the current one (timing-safe: the server's gate). */
export type TokenCheck = (token: string) => boolean;

export function cookieToken(req: IncomingMessage): string | undefined {
  const name = cookieName(req.headers.host ?? "");
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeCookie(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** A malformed cookie is no token (a 401), not a failure of the server. */
function decodeCookie(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

const bearerToken = (req: IncomingMessage) => /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];

/**
 * Answers a login URL (a redirect that sets the cookie) and returns true, or checks the request's
 * credentials and throws 401/403 when they do not hold.
 */
export function authorize(req: IncomingMessage, res: ServerResponse, url: URL, accepts: TokenCheck): boolean {
  const host = req.headers.host ?? "";
  if (!LOOPBACK.test(host))
    throw new DashboardHttpError(403, `the dashboard answers on 127.0.0.1 only, not Host ${JSON.stringify(host)}`);
  const login = url.searchParams.get("token");
  if (login !== null) {
    if (!accepts(login))
      throw new DashboardHttpError(401, "the login token is not valid (it may have been rotated): run faasade dashboard again");
    url.searchParams.delete("token");
    const cookie = `${cookieName(host)}=${encodeURIComponent(login)}; HttpOnly; SameSite=Strict; Path=/dashboard`;
    res.writeHead(303, { location: url.pathname + url.search, "set-cookie": cookie, "cache-control": "no-store" }).end();
    return true;
  }
  const fromCookie = cookieToken(req);
  const given = fromCookie ?? bearerToken(req);
  if (given === undefined || !accepts(given)) {
    throw new DashboardHttpError(401, "a valid dashboard token is required: open the URL faasade dashboard prints");
  }
  if (req.method === "POST") checkSameOrigin(req, host, fromCookie !== undefined && accepts(fromCookie));
  return false;
}

function checkSameOrigin(req: IncomingMessage, host: string, hasCookie: boolean): void {
  const origin = req.headers.origin;
  if (origin !== `http://${host}`) {
    throw new DashboardHttpError(
      403,
      `a dashboard action must come from the dashboard's origin http://${host}, not ${JSON.stringify(origin ?? "no Origin")}`,
    );
  }
  if (!hasCookie)
    throw new DashboardHttpError(403, "a dashboard action needs the dashboard's cookie: open the URL faasade dashboard prints");
}
