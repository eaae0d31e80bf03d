// The dashboard's pages in Debian's Chromium over a real local deployment server with the fixture app
// deployed. The test is the "other client": it spawns and awaits calls through the SDK while the page
// watches. FAASADE_SCREENSHOTS=1 also writes a PNG of each page into docs/dashboard/ (never in npm test).
import { mkdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { InputCancelledError } from "faasade";
import type { Page as BrowserPage } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumMissing, type OpenBrowser, openChromium } from "./browser/chromium.js";
import { type Dashboard, startDashboard } from "./fixtures/dashboard-harness.js";

const SHOTS = process.env.FAASADE_SCREENSHOTS === "1" ? "docs/dashboard" : undefined;
const LIVE_MS = 2_000; // the contract: live within 2 s, without a reload

async function shot(page: BrowserPage, name: string): Promise<void> {
  if (SHOTS === undefined) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

describe.skipIf(chromiumMissing !== undefined)(
  `the dashboard's pages in Chromium (${chromiumMissing ?? "Debian's Chromium"})`,
  { timeout: 60_000 },
  () => {
    let d: Dashboard;
    let browser: OpenBrowser;
    let page: BrowserPage;
    const errors: string[] = [];
    beforeAll(async () => {
      d = await startDashboard();
      browser = await openChromium({ width: 390, height: 844 });
      page = await browser.context.newPage();
      page.on("pageerror", (err) => errors.push(err.message));
      page.on("console", (m) => {
        // A 404 the page asked for (and shows) is logged by Chromium itself; anything else is the page's fault.
        if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
      });
      await page.goto(`${d.origin}/dashboard?token=${encodeURIComponent(d.token)}`);
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await d?.close();
    });

    const card = (fn: string) => page.getByRole("article", { name: fn, exact: true });

    it("logs in through the printed URL and shows the app's functions with live stats", async () => {
      expect(new URL(page.url()).search).toBe(""); // the token left the address bar
      await expect.poll(() => page.locator("#live").textContent(), { timeout: 5_000 }).toBe("live");
      for (const fn of ["square", "slow", "fails", "outer", "warm"]) await card(fn).waitFor();
      const slow = card("slow");
      expect(await slow.locator("dt").allTextContents()).toEqual(["backlog", "runners", "running"]);
      expect(await slow.locator(".autoscaler").textContent()).toContain("max 1");
      expect(await slow.getByLabel("Min containers").inputValue()).toBe("0");
      expect(page.viewportSize()?.width).toBe(390);
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390); // no sideways scroll
      await shot(page, "apps");
    });

    it("Keep warm 1 makes the function's runners 1, live", async () => {
      const warm = card("warm");
      await warm.getByLabel("Min containers").fill("1");
      await warm.getByRole("button", { name: "Keep warm" }).click();
      await expect.poll(() => warm.locator('[data-stat="numTotalRunners"]').textContent(), { timeout: 10_000 }).toBe("1");
      expect(await warm.locator(".autoscaler").textContent()).toContain("min 1");
    });

    it("a function's calls: a spawned call appears as PENDING, then SUCCESS, without a reload", async () => {
      await card("slow").getByRole("link", { name: "slow" }).click();
      await page.getByRole("heading", { name: "slow", level: 1 }).waitFor();
      const loaded = await page.evaluate("performance.getEntriesByType('navigation').length");
      const call = await d.fn<(ms: number) => number>("slow").spawn(1_500);
      const row = page.locator(`tr[data-call="${call.objectId}"]`);
      await expect.poll(() => row.locator(".status").textContent(), { timeout: LIVE_MS }).toBe("PENDING");
      await shot(page, "calls");
      expect(await call.get()).toBe(1_500);
      await expect.poll(() => row.locator(".status").textContent(), { timeout: LIVE_MS }).toBe("SUCCESS");
      expect(await row.locator("td").nth(4).textContent()).toBe("1");
      expect(await page.evaluate("performance.getEntriesByType('navigation').length")).toBe(loaded);
      await page.getByLabel("Status").selectOption("FAILURE");
      await expect.poll(() => row.count()).toBe(0);
      await page.getByLabel("Status").selectOption("");
      await expect.poll(() => row.count()).toBe(1);
    });

    it("pages to older calls through the API's cursor", async () => {
      const square = d.fn<(x: number) => number>("square");
      const ids: string[] = [];
      for (let i = 0; i < 52; i++) ids.push((await square.spawn(i)).objectId);
      await page.goto(`${d.origin}/dashboard/functions/main/dash-app/square`);
      const rows = page.locator("tbody tr");
      await expect.poll(() => rows.count()).toBe(50);
      expect(await rows.first().getAttribute("data-call")).toBe(ids.at(-1)); // newest first
      await page.getByRole("button", { name: "Older" }).click();
      await expect.poll(() => rows.count()).toBe(52);
      expect(await rows.last().getAttribute("data-call")).toBe(ids[0]);
      expect(await page.getByRole("button", { name: "Older" }).isHidden()).toBe(true);
    });

    it("a nested call's page shows its graph as a tree, each node a link to its call", async () => {
      const outer = await d.fn<(x: number) => number>("outer").spawn(4);
      expect(await outer.get()).toBe(17);
      await page.goto(`${d.origin}/calls/${outer.objectId}`); // API.md's path: redirected to the dashboard's
      expect(new URL(page.url()).pathname).toBe(`/dashboard/calls/${outer.objectId}`);
      const tree = page.locator(".graph > .tree");
      await tree.waitFor();
      const root = tree.locator(":scope > li");
      expect(await root.locator(":scope > a").textContent()).toBe("outer");
      expect(await root.locator(":scope > .status").textContent()).toBe("SUCCESS");
      const child = root.locator("ul > li");
      expect(await child.locator(":scope > a").textContent()).toBe("square");
      expect(await child.locator(":scope > .status").textContent()).toBe("SUCCESS");
      expect(await page.locator("pre").first().textContent()).toBe("17");
      await shot(page, "call");
      // The page before names a call too: wait for the child's own, by the id its link holds.
      const childId = (await child.locator(":scope > a").getAttribute("href"))?.split("/").pop();
      expect(childId).toMatch(/^fc-/);
      await child.locator(":scope > a").click();
      await page.getByRole("heading", { name: `Call ${childId}`, level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).not.toBe(`/dashboard/calls/${outer.objectId}`);
      expect(await page.locator(".tree > li > a").first().textContent()).toBe("square");
    });

    it("shows a failed call's error class, message and remote stack", async () => {
      const failed = await d.fn<(m: string) => never>("fails").spawn("no such thing");
      await expect(failed.get()).rejects.toThrow();
      await page.goto(`${d.origin}/dashboard/calls/${failed.objectId}`);
      const error = page.locator(".error");
      await error.waitFor();
      expect(await error.textContent()).toContain("UserCodeError");
      expect(await error.textContent()).toContain("RangeError: no such thing");
      expect(await error.locator("pre").textContent()).toContain("RangeError");
      expect(await page.locator(".facts .status").textContent()).toBe("FAILURE");
    });

    it("Cancel cancels a pending call (get() rejects with InputCancelledError); Run again spawns it anew", async () => {
      const slow = d.fn<(ms: number) => number>("slow");
      const running = await slow.spawn(5_000);
      const waiting = await slow.spawn(1_000); // one container: it waits
      await page.goto(`${d.origin}/dashboard/calls/${waiting.objectId}`);
      await page.getByRole("button", { name: "Cancel" }).click();
      await expect(waiting.get()).rejects.toBeInstanceOf(InputCancelledError);
      await expect.poll(() => page.locator(".facts .status").textContent(), { timeout: LIVE_MS }).toBe("TERMINATED");
      expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(0);
      await page.getByRole("button", { name: "Run again" }).click();
      const heading = page.locator("h1 code");
      await expect.poll(() => heading.textContent()).not.toBe(waiting.objectId);
      expect(new URL(page.url()).pathname).toBe(`/dashboard/calls/${await heading.textContent()}`);
      expect(await page.locator(".facts .status").textContent()).toBe("PENDING"); // behind the running one
      await expect.poll(() => page.locator(".facts .status").textContent(), { timeout: 10_000 }).toBe("SUCCESS");
      expect(await page.locator("pre").first().textContent()).toBe("1000");
      await running.get();
    });

    it("a failed request shows a readable message on the page", async () => {
      await page.goto(`${d.origin}/dashboard/calls/fc-unknown`);
      const message = page.getByRole("alert");
      await message.waitFor();
      expect(await message.textContent()).toContain("404");
      expect(await message.textContent()).toContain("fc-unknown");
    });

    it("without the token every page, asset and root /calls path is refused with 401", async () => {
      for (const path of ["/dashboard", "/dashboard/calls/fc-x", "/dashboard/assets/app.js", "/dashboard/assets/style.css"]) {
        expect((await fetch(`${d.origin}${path}`)).status).toBe(401);
      }
      expect((await fetch(`${d.origin}/calls/fc-x`)).status).toBe(401); // through the redirect
      const withCookie = await fetch(`${d.origin}/dashboard/assets/app.js`, { headers: { cookie: d.cookie } });
      expect(withCookie.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(withCookie.headers.get("content-security-policy")).toMatch(/^default-src 'self'/);
      expect(withCookie.headers.get("cache-control")).toBe("no-store");
      let gzip = 0; // the budget (issue 15): at most 150 KB gzip of assets in all, as served
      for (const path of ["/dashboard", "/dashboard/assets/app.js", "/dashboard/assets/style.css"]) {
        const body = await (await fetch(`${d.origin}${path}`, { headers: { cookie: d.cookie } })).text();
        gzip += gzipSync(body).byteLength;
      }
      expect(gzip).toBeLessThan(150 * 1024);
      expect(errors).toEqual([]);
    });
  },
);
