// Debian's Chromium for the browser tests, driven by playwright-core (never a downloaded browser: this
// network reaches only the npm registry and Debian's packages). .ci/run installs the package when it is
// missing; where it still is not there, the browser tests are skipped with `chromiumMissing` as the reason.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.FAASADE_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumMissing: string | undefined = existsSync(CHROMIUM)
  ? undefined
  : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, as .ci/run does; or set FAASADE_CHROMIUM)`;

/**
 * Flags for this machine (../shared/reference/emulators.md): headless without a sandbox or GPU, and none of
 * Chromium's own background connections, which a closed network refuses and which would keep it busy.
 */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface OpenBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A browser with an empty profile of its own, removed on close. */
export async function openChromium(viewport = { width: 1280, height: 800 }): Promise<OpenBrowser> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "faasade-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS, viewport });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
