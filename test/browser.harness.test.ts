// The browser harness itself (test/browser/chromium.ts): Debian's Chromium starts offline with this
// machine's flags, renders a page served on loopback, runs its script and takes a click; a phone-sized
// viewport is honoured. The dashboard's browser tests stand on it.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumMissing, type OpenBrowser, openChromium } from "./browser/chromium.js";

const PAGE = `<!doctype html><title>harness</title>
<button id="b" type="button">Press</button><output id="o">0</output>
<script>let n = 0; document.getElementById("b").onclick = () => { document.getElementById("o").textContent = String(++n); };</script>`;

describe.skipIf(chromiumMissing !== undefined)(
  `browser harness (${chromiumMissing ?? "Debian's Chromium"})`,
  { timeout: 60_000 },
  () => {
    let browser: OpenBrowser;
    const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(PAGE));
    let url = "";
    beforeAll(async () => {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      browser = await openChromium({ width: 390, height: 844 });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      server.close();
    });

    it("renders a loopback page, runs its script and takes a click by the button's name", async () => {
      const page = await browser.context.newPage();
      await page.goto(url);
      expect(await page.title()).toBe("harness");
      await page.getByRole("button", { name: "Press" }).click();
      await page.getByRole("button", { name: "Press" }).click();
      expect(await page.locator("#o").textContent()).toBe("2");
      expect(page.viewportSize()?.width).toBe(390);
      expect(await page.evaluate("innerWidth")).toBe(390);
      const shot = await page.screenshot();
      expect(shot.subarray(1, 4).toString()).toBe("PNG");
    });
  },
);
