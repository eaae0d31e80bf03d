/**
 * The control API's token check. The token file is read again whenever it changes (a stat per
 * request), so `faasade token rotate` takes effect at once: the new token is accepted and the
 * old one refused from the next request on. Tokens are compared as SHA-256 digests with
 * `timingSafeEqual`: fixed-length inputs, so neither the content nor the length of a wrong
 * token changes how long the comparison takes.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { statSync } from "node:fs";
import { type HomePaths, readToken } from "./home.js";

export interface TokenGate {
  /** Whether an `authorization` header carries the current token. */
  accepts(authorization: string | undefined): boolean;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

export function tokenGate(paths: HomePaths, initial: string): TokenGate {
  let expected = digest(initial);
  let seen = versionOf(paths.token);
  const current = () => {
    const now = versionOf(paths.token);
    // A missing file (deleted by hand) keeps the last token: the server never opens up.
    if (now !== undefined && now !== seen) {
      const token = readToken(paths);
      if (token !== undefined) {
        expected = digest(token);
        seen = now;
      }
    }
    return expected;
  };
  return {
    accepts(authorization) {
      const given = digest(authorization?.replace(/^Bearer /, "") ?? "");
      return timingSafeEqual(given, current());
    },
  };
}

/** What changes when the file is replaced or rewritten. */
function versionOf(file: string): string | undefined {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.ino}:${s.mtimeNs}:${s.size}`;
  } catch {
    return undefined;
  }
}
