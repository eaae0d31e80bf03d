/**
 * The OIDC stand-in of the Cloud Tasks test double: tokens that look like Google's ID tokens
 * (three base64url parts, claims `aud`, `email`, `iss`, `exp`) but are signed with HMAC-SHA256
 * over a secret the double holds, so that a function host in another process, given that
 * secret, can check the audience and the signature the way the platform's front end would.
 * They are test tokens only: nothing outside the offline backend accepts them.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const TEST_TOKEN_ISSUER = "https://tasks-double.faasade.invalid";

export interface TestTokenClaims {
  iss: string;
  aud: string;
  email: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

const b64 = (text: string) => Buffer.from(text).toString("base64url");
const HEADER = b64(JSON.stringify({ alg: "HS256", typ: "JWT" }));
const sign = (secret: string, data: string) => createHmac("sha256", secret).update(data).digest();

/** A fresh secret for one double (hex, so that it fits an environment variable). */
export const newTokenSecret = () => randomBytes(32).toString("hex");

/** A token for `audience`, as Cloud Tasks mints one per dispatch for the task's service account. */
export function issueTestToken(secret: string, audience: string, email: string, lifetimeMs = 3_600_000): string {
  const now = Math.floor(Date.now() / 1000);
  const claims: TestTokenClaims = {
    iss: TEST_TOKEN_ISSUER,
    aud: audience,
    email,
    iat: now,
    exp: now + Math.ceil(lifetimeMs / 1000),
  };
  const data = `${HEADER}.${b64(JSON.stringify(claims))}`;
  return `${data}.${sign(secret, data).toString("base64url")}`;
}

/**
 * The claims of a token `issueTestToken` made with `secret` for `audience`; `undefined` for
 * anything else (another secret, another audience, expired, malformed). Pass an
 * `Authorization` header's value or the bare token.
 */
export function verifyTestToken(secret: string, token: string | undefined, audience: string): TestTokenClaims | undefined {
  const bare = token?.replace(/^Bearer\s+/i, "") ?? "";
  const [header, payload, signature, ...rest] = bare.split(".");
  if (header !== HEADER || payload === undefined || signature === undefined || rest.length > 0) return undefined;
  const expected = sign(secret, `${header}.${payload}`);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as TestTokenClaims;
    const fresh = claims.exp * 1000 > Date.now();
    return claims.iss === TEST_TOKEN_ISSUER && claims.aud === audience && fresh ? claims : undefined;
  } catch {
    return undefined;
  }
}
