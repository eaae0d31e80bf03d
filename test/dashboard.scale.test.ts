// The dashboard's call list over thousands of recorded calls: the server answers a page from an
// index (no scan of the table), so the first page comes as fast with 5 000 calls as with 5.
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, type Page, startDashboard } from "./fixtures/dashboard-harness.js";

const CALLS = 5_000;
let d: Dashboard;
let db: Database.Database;
beforeAll(async () => {
  d = await startDashboard();
  // Recorded calls, written as the server writes finished ones (a second connection: WAL allows it).
  db = new Database(d.paths.db);
  const insert = db.prepare(
    "INSERT INTO calls (call_id, app, env, fn, is_gen, input_id, attempt, args, parent, created_at, status, finished_at) VALUES (?, 'dash-app', 'main', ?, 0, ?, 1, x'', NULL, ?, ?, ?)",
  );
  const t0 = Date.now() - CALLS * 10;
  db.transaction(() => {
    for (let i = 0; i < CALLS; i++) {
      const status = i % 10 === 0 ? "FAILURE" : "SUCCESS";
      insert.run(
        `fc-scale-${String(i).padStart(5, "0")}`,
        i % 2 === 0 ? "square" : "fails",
        `in-${i}`,
        t0 + i * 10,
        status,
        t0 + i * 10 + 3,
      );
    }
  })();
});
afterAll(async () => {
  db.close();
  await d.close();
});

describe("a call list over thousands of recorded calls", () => {
  it("answers the first page, newest first, from an index", async () => {
    const timed = async (path: string) => {
      const t = performance.now();
      const page = await d.json<Page>(path);
      return { page, ms: performance.now() - t };
    };
    await d.json("/apps"); // a warm connection: what is measured below is the query
    const first = await timed("/apps/main/dash-app/square/calls");
    expect(first.page.calls).toHaveLength(50);
    expect(first.page.calls[0]?.functionCallId).toBe(`fc-scale-0${CALLS - 2}`);
    const starts = first.page.calls.map((c) => c.startedAt);
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    const failed = await timed("/apps/main/dash-app/fails/calls?status=FAILURE&limit=200");
    expect(failed.page.calls).toEqual([]); // every tenth call failed, and each of those is a square (even i)
    const squareFailed = await timed("/apps/main/dash-app/square/calls?status=FAILURE&limit=200");
    expect(squareFailed.page.calls).toHaveLength(200);
    expect(squareFailed.page.calls.every((c) => c.status === "FAILURE")).toBe(true);
    const deep = await timed(`/apps/main/dash-app/square/calls?before=${encodeURIComponent(first.page.next ?? "")}`);
    expect(deep.page.calls[0]?.functionCallId).toBe(`fc-scale-0${CALLS - 102}`);
    console.log(
      `dashboard, ${CALLS} calls recorded: first page ${first.ms.toFixed(1)} ms, FAILURE filter (200) ${squareFailed.ms.toFixed(1)} ms, second page ${deep.ms.toFixed(1)} ms`,
    );
    for (const where of ["", " AND status = 'FAILURE'"]) {
      const plan = db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT call_id FROM calls WHERE app = 'dash-app' AND env = 'main' AND fn = 'square'${where} AND (created_at, call_id) < (1, 'x') ORDER BY created_at DESC, call_id DESC LIMIT 50`,
        )
        .all() as { detail: string }[];
      const text = plan.map((p) => p.detail).join("; ");
      expect(text).toMatch(/USING (COVERING )?INDEX calls_by_fn/);
      expect(text).not.toMatch(/TEMP B-TREE/);
    }
  });
});
