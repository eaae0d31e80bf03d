// `faasade dashboard --provider aws` in Debian's Chromium: the real command (a child process given the
// offline backend's environment, as a user's shell would be) serves the cloud's deployed app until
// SIGTERM; the page opens from the URL it prints and watches calls this test spawns from here.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { Function_ } from "faasade";
import { startTestBackend } from "faasade/testing";
import type { Page as BrowserPage } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumMissing, type OpenBrowser, openChromium } from "./browser/chromium.js";

const LIVE_MS = 2_000;
const STEP_MS = 15_000;

describe.skipIf(chromiumMissing !== undefined)(
  `a cloud's dashboard in Chromium (${chromiumMissing ?? "Debian's Chromium"})`,
  { timeout: 60_000 },
  () => {
    let backend: Awaited<ReturnType<typeof startTestBackend>>;
    let cli: ChildProcess;
    let url = "";
    let browser: OpenBrowser;
    let page: BrowserPage;
    const fn = <F extends (...args: never[]) => unknown>(name: string) =>
      Function_.fromName<F>("dash-app", name, { provider: backend.provider });

    beforeAll(async () => {
      backend = await startTestBackend("aws", { module: new URL("./fixtures/dashboard-app.mjs", import.meta.url) });
      cli = spawn(process.execPath, ["dist/src/cli/main.js", "dashboard", "--provider", "aws", "--json"], {
        env: { ...process.env, ...backend.env },
        stdio: ["ignore", "pipe", "inherit"],
      });
      const [line] = (await once(createInterface({ input: cli.stdout as NodeJS.ReadableStream }), "line")) as [string];
      url = (JSON.parse(line) as { url: string }).url;
      browser = await openChromium({ width: 390, height: 844 });
      page = await browser.context.newPage();
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      if (cli?.exitCode === null) cli.kill("SIGKILL");
      await backend?.close();
    });

    it("prints a login URL on 127.0.0.1 that needs its token", async () => {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dashboard\?token=[\w-]{20,}$/);
      expect((await fetch(url.replace(/\?.*/, ""))).status).toBe(401);
    });

    it("shows the cloud's app and its functions, and a spawned call as PENDING, then SUCCESS, without a reload", async () => {
      await page.goto(url);
      await expect.poll(() => page.locator("#live").textContent(), { timeout: 5_000 }).toBe("live");
      // Every step has a bound of its own, well inside the test's: a slow one then names itself.
      for (const name of ["square", "slow", "fails", "outer", "warm"]) {
        await page.getByRole("article", { name, exact: true }).waitFor({ timeout: STEP_MS });
      }
      await page
        .getByRole("article", { name: "slow", exact: true })
        .getByRole("link", { name: "slow" })
        .click({ timeout: STEP_MS });
      await page.getByRole("heading", { name: "slow", level: 1 }).waitFor({ timeout: STEP_MS });
      const call = await fn<(ms: number) => number>("slow").spawn(1_500);
      const row = page.locator(`tr[data-call="${call.objectId}"]`);
      await expect.poll(() => row.locator(".status").textContent(), { timeout: LIVE_MS }).toBe("PENDING");
      expect(await call.get({ timeoutMs: STEP_MS })).toBe(1_500);
      await expect.poll(() => row.locator(".status").textContent(), { timeout: LIVE_MS }).toBe("SUCCESS");
    });

    it("a nested call's page shows its graph, and a node opens that call", async () => {
      const outer = await fn<(x: number) => number>("outer").spawn(3);
      expect(await outer.get()).toBe(10);
      await page.goto(`${new URL(url).origin}/calls/${outer.objectId}`);
      const root = page.locator(".graph > .tree > li");
      await root.waitFor();
      expect(await root.locator(":scope > a").textContent()).toBe("outer");
      const child = root.locator("ul > li");
      expect(await child.locator(":scope > .status").textContent()).toBe("SUCCESS");
      // The page before names a call too: wait for the child's own, by the id its link holds.
      const childId = (await child.locator(":scope > a").getAttribute("href"))?.split("/").pop();
      expect(childId).toMatch(/^fc-/);
      await child.locator(":scope > a").click();
      await page.getByRole("heading", { name: `Call ${childId}`, level: 1 }).waitFor();
      expect(await page.locator(".tree > li > a").first().textContent()).toBe("square");
    });

    it("stops on SIGTERM, and the open page says its live updates are lost", async () => {
      expect(await page.locator("#live").textContent()).toBe("live");
      cli.kill("SIGTERM");
      const [code] = await once(cli, "exit");
      expect(code).toBe(0);
      await expect.poll(() => page.locator("#live").textContent(), { timeout: 5_000 }).toBe("live updates lost: reconnecting…");
    });
  },
);

describe.skipIf(chromiumMissing !== undefined)(
  `gcp's dashboard in Chromium (${chromiumMissing ?? "Debian's Chromium"})`,
  { timeout: 60_000 },
  () => {
    let backend: Awaited<ReturnType<typeof startTestBackend>>;
    let served: { url: string; close(): Promise<void> };
    let browser: OpenBrowser;
    let page: BrowserPage;

    beforeAll(async () => {
      backend = await startTestBackend("gcp", { module: new URL("./fixtures/dashboard-app.mjs", import.meta.url) });
      // The built modules, as the provider is (one copy of the core).
      const { cloudDashboardSource, isCloudProvider } = await import("../dist/src/cloud/dashboard-source.js");
      const { serveDashboard } = await import("../dist/src/dashboard/serve.js");
      if (!isCloudProvider(backend.provider)) throw new Error("gcp's provider is not a cloud provider");
      served = await serveDashboard(cloudDashboardSource(backend.provider));
      browser = await openChromium({ width: 390, height: 844 });
      page = await browser.context.newPage();
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await served?.close();
      await backend?.close();
    });

    it("a function's page says why gcp cannot list calls, and a call still opens by its id", async () => {
      await page.goto(served.url);
      await page.getByRole("article", { name: "square", exact: true }).getByRole("link", { name: "square" }).click();
      await page.getByRole("heading", { name: "square", level: 1 }).waitFor(); // the page stays, with the reason
      const message = page.getByRole("alert");
      await message.waitFor();
      expect(await message.textContent()).toContain("gcp cannot list calls");
      const call = await Function_.fromName<(x: number) => number>("dash-app", "square", { provider: backend.provider }).spawn(5);
      expect(await call.get()).toBe(25);
      await page.goto(`${new URL(served.url).origin}/calls/${call.objectId}`);
      await expect.poll(() => page.locator(".facts .status").textContent(), { timeout: 5_000 }).toBe("SUCCESS");
      expect(await page.locator("pre").first().textContent()).toBe("25");
    });
  },
);
