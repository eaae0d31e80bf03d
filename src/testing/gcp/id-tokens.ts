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
  /** Whether `token` was signed here, is unexpired, and names `audience`. */
  verify(token: string, audience: string): boolean;
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
      const [head, claims, signature] = token.split(".");
      if (head === undefined || claims === undefined || signature === undefined) return false;
      const expected = sign(`${head}.${claims}`);
      const given = Buffer.from(signature, "base64url");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
      try {
        const { aud, exp, iss } = JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as Record<string, unknown>;
        return iss === ISSUER && aud === audience && typeof exp === "number" && exp > Date.now() / 1000;
      } catch {
        return false;
      }
    },
  };
}
