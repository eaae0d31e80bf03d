/**
 * ID tokens for offline tests (a test double of Google's, not Google's): JWTs shaped as Google's
 * (`iss`, `aud`, `exp`, `email`), signed with HMAC-SHA256 and a key of the test run's own, so
 * that the function host can refuse a missing, forged, expired or wrongly addressed token as
 * Cloud Run does. One signer serves callers and the Tasks stand-in alike.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface IdTokenDouble {
  /** A token for `audience` (a function's URL), as `GoogleAuth.getIdTokenClient(audience)` gives one. */
  idToken(audience: string, email?: string): Promise<string>;
  /** Whether `token` (bare, or an `Authorization` header's value) was signed here, is unexpired, and names `audience`. */
  verify(token: string | undefined, audience: string): boolean;
  /** The claims of such a token; undefined for any other. */
  claimsOf(token: string | undefined, audience: string): IdTokenClaims | undefined;
}

export interface IdTokenClaims {
  iss: string;
  aud: string;
  email: string;
  iat: number;
  exp: number;
}

const ISSUER = "https://accounts.google.com";
const LIFETIME_S = 3600;
const b64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

export function idTokenDouble(key: Buffer = randomBytes(32)): IdTokenDouble {
  const sign = (text: string) => createHmac("sha256", key).update(text).digest();
  return {
    async idToken(audience, email = "caller@test.iam.gserviceaccount.com") {
      const now = Math.floor(Date.now() / 1000);
      const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
      const claims = b64url(JSON.stringify({ iss: ISSUER, aud: audience, email, iat: now, exp: now + LIFETIME_S }));
      return `${head}.${claims}.${b64url(sign(`${head}.${claims}`))}`;
    },
    verify(token, audience) {
      return this.claimsOf(token, audience) !== undefined;
    },
    claimsOf(token, audience) {
      const [head, claims, signature, ...rest] = (token ?? "").replace(/^Bearer\s+/i, "").split(".");
      if (head === undefined || claims === undefined || signature === undefined || rest.length > 0) return undefined;
      const expected = sign(`${head}.${claims}`);
      const given = Buffer.from(signature, "base64url");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        const parsed = JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as IdTokenClaims;
        const fresh = typeof parsed.exp === "number" && parsed.exp > Date.now() / 1000;
        return parsed.iss === ISSUER && parsed.aud === audience && fresh ? parsed : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
