// The dashboard's first render with 10 000 calls recorded (issue 15: under 500 ms on the local deployment):
// a real local deployment server with the dashboard's fixture app, 10 000 finished calls written into its
// store as the server writes them, and Debian's Chromium loading each page afresh (a new tab, the login
// cookie already set) until the page shows its content: the apps page its functions' stats, the calls page
// its first 50 rows. Prints each round and the median. Usage: npx tsc -p tsconfig.build.json && npx tsx bench/dashboard-render.ts
import Database from "better-sqlite3";
import { chromiumMissing, openChromium } from "../test/browser/chromium.js";
import { startDashboard } from "../test/fixtures/dashboard-harness.js";

const CALLS = 10_000;
const ROUNDS = 7;
if (chromiumMissing !== undefined) throw new Error(chromiumMissing);

const d = await startDashboard();
const db = new Database(d.paths.db);
const insert = db.prepare(
  "INSERT INTO calls (call_id, app, env, fn, is_gen, input_id, attempt, args, parent, created_at, status, finished_at) VALUES (?, 'dash-app', 'main', 'square', 0, ?, 1, x'', NULL, ?, ?, ?)",
);
const t0 = Date.now() - CALLS * 10;
db.transaction(() => {
  for (let i = 0; i < CALLS; i++)
    insert.run(`fc-render-${i}`, `in-${i}`, t0 + i * 10, i % 10 === 0 ? "FAILURE" : "SUCCESS", t0 + i * 10 + 3);
})();
db.close();

const browser = await openChromium();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
try {
  const login = await browser.context.newPage();
  await login.goto(`${d.origin}/dashboard?token=${encodeURIComponent(d.token)}`);
  await login.getByText("runners").first().waitFor();
  await login.close();
  const timed = async (path: string, shown: (page: import("playwright-core").Page) => Promise<unknown>) => {
    const rounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const page = await browser.context.newPage();
      const start = performance.now();
      await page.goto(`${d.origin}${path}`);
      await shown(page);
      rounds.push(performance.now() - start);
      await page.close();
    }
    return rounds;
  };
  // Drawn once a function's live stats are filled in (they show "…" until the first stats arrive).
  const apps = await timed("/dashboard", (p) =>
    p.locator('[data-stat="numTotalRunners"]', { hasText: /^\d+$/ }).first().waitFor(),
  );
  const calls = await timed("/dashboard/functions/main/dash-app/square", async (p) => {
    await p.locator("tbody tr").nth(49).waitFor();
    const first = await p.locator("tbody tr").first().getAttribute("data-call");
    if (first !== `fc-render-${CALLS - 1}`) throw new Error(`the newest call should come first, not ${first}`);
  });
  const show = (name: string, xs: number[]) =>
    console.log(`${name}: median ${median(xs).toFixed(0)} ms (rounds: ${xs.map((x) => x.toFixed(0)).join(", ")})`);
  console.log(`first render, ${CALLS} calls recorded, ${ROUNDS} rounds each, budget 500 ms:`);
  show("apps page (functions and live stats)", apps);
  show("calls page (first 50 of 10 000, newest first)", calls);
  if (median(apps) >= 500 || median(calls) >= 500) process.exitCode = 1;
} finally {
  await browser.close();
  await d.close();
}
