/**
 * The ids of spawned calls on a cloud that keeps a record per call: `fc-<function>-<time>-<random>`,
 * where <function> is a short hash of the function's environment, app and name and <time> counts
 * down, so that an object store's listing of `calls/fc-<function>-` (in key order, the only order
 * stores list in) is that function's calls, newest first, without reading any of them.
 */
import { createHash, randomBytes } from "node:crypto";

interface Named {
  environment: string;
  app: string;
  name: string;
}

/** Base 36 with this many digits holds every millisecond until the year 5138. */
const TIME_DIGITS = 9;
const LAST_MS = 36 ** TIME_DIGITS - 1;
const LISTED = /^fc-([0-9a-f]{10})-([0-9a-z]{9})-[0-9a-f]{16}$/;

/** What every call id of the function begins with. */
export const callIdPrefix = (fn: Named): string =>
  `fc-${createHash("sha256").update(`${fn.environment}/${fn.app}/${fn.name}`).digest("hex").slice(0, 10)}-`;

export function listedCallId(fn: Named, now = Date.now()): string {
  const countdown = (LAST_MS - now).toString(36).padStart(TIME_DIGITS, "0");
  return `${callIdPrefix(fn)}${countdown}-${randomBytes(8).toString("hex")}`;
}

/** When a listed call was spawned (ms since the epoch, by the spawner's clock); undefined for other ids. */
export function spawnedAt(callId: string): number | undefined {
  const m = LISTED.exec(callId);
  return m === null ? undefined : LAST_MS - Number.parseInt(m[2] as string, 36);
}
