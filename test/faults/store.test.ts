import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Store } from "../../src/providers/local/deploy/store.js";

const dirs: string[] = [];
function dbFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "faasade-store-"));
  dirs.push(dir);
  return join(dir, "state.db");
}
afterEach(() => vi.restoreAllMocks());

const args = new Uint8Array(64).fill(7);
function spawnAndFinish(store: Store, n: number, retentionMs: number, from = 0): void {
  for (let i = from; i < from + n; i++) {
    const id = `fc-${i}`;
    store.insertCall({
      call_id: id,
      app: "a",
      env: "main",
      fn: "f",
      is_gen: 0,
      input_id: `in-${i}`,
      attempt: 1,
      args,
      parent: null,
    });
    store.putGraphEvents([{ call: id, parent: undefined, fn: "f", module: "file:///m.mjs" }]);
    store.finishCall(id, { inputId: `in-${i}`, attempt: 1, status: "SUCCESS", value: new Uint8Array(2048).fill(1) }, retentionMs);
  }
}

describe("the state database is bounded by retention", () => {
  it("expire drops result bytes, then the rows once expired as long again, and graph records older than every call", async () => {
    const s = await Store.open(dbFile());
    {
      const t0 = Date.now();
      vi.spyOn(Date, "now").mockReturnValue(t0); // every call finishes at t0, however slow the machine
      spawnAndFinish(s, 500, 1000);
      vi.restoreAllMocks();
      expect(s.expire(t0 + 500)).toEqual({ expired: 0, deleted: 0, graph: 0 });
      expect(s.expire(t0 + 1500)).toMatchObject({ expired: 500, deleted: 0 });
      expect(s.call("fc-1")?.status).toBe("EXPIRED"); // get tells it apart from an unknown call
      expect(s.sizes().graph).toBe(500);
      expect(s.expire(t0 + 2600)).toEqual({ expired: 0, deleted: 500, graph: 500 });
      expect(s.call("fc-1")).toBeUndefined();
      expect(s.sizes()).toMatchObject({ calls: 0, chunks: 0, graph: 0 });
      s.close();
    }
  });

  it("the file stops growing under steady load with a short retention (incremental vacuum)", async () => {
    const file = dbFile();
    const s = await Store.open(file);
    const pages: number[] = [];
    let now = Date.now();
    for (let round = 0; round < 8; round++) {
      spawnAndFinish(s, 400, 10, round * 400);
      now += 1000; // later than every expiry and tombstone of this round
      vi.spyOn(Date, "now").mockReturnValue(now);
      s.expire(now);
      vi.restoreAllMocks();
      pages.push(s.sizes().pages);
    }
    // Each round's rows are gone before the next: the file holds about one round, not eight.
    expect(s.sizes()).toMatchObject({ calls: 0, graph: 0 });
    expect(Math.max(...pages.slice(2))).toBeLessThanOrEqual(Math.max(pages[0] as number, pages[1] as number) * 1.2);
    s.close();
  });
});

describe("an unreadable state database is moved aside, not lost", () => {
  for (const [how, damage] of [
    ["overwritten with garbage", (f: string) => writeFileSync(f, randomBytes(statSync(f).size))],
    ["truncated to half", (f: string) => truncateSync(f, Math.floor(statSync(f).size / 2))],
  ] as const) {
    it(`${how}: the bad copy is kept next to it with a note, an empty database starts`, async () => {
      const file = dbFile();
      const first = await Store.open(file);
      spawnAndFinish(first, 300, 60_000);
      first.close();
      damage(file);
      const damaged = readFileSync(file);
      const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
      const s = await Store.open(file);
      const said = stderr.mock.calls.map((c) => String(c[0])).join("");
      stderr.mockRestore();
      expect(s.movedAside?.to).toMatch(/state\.db\.bad-/);
      expect(said).toContain(`the state database ${file} is unreadable`);
      expect(said).toContain("deployed again");
      expect(readFileSync(s.movedAside?.to as string).equals(damaged)).toBe(true);
      expect(existsSync(`${s.movedAside?.to}.txt`)).toBe(true);
      expect(s.sizes().calls).toBe(0);
      s.close();
      // A good database is left as it is at the next open.
      const again = await Store.open(file);
      expect(again.movedAside).toBeUndefined();
      expect(readdirSync(join(file, "..")).filter((f) => /\.bad-[^.]*$/.test(f))).toHaveLength(1);
      again.close();
    });
  }

  it("a failed write names the file and what was being stored", async () => {
    const s = await Store.open(dbFile());
    s.close();
    expect(() =>
      s.insertCall({
        call_id: "fc-x",
        app: "a",
        env: "main",
        fn: "f",
        is_gen: 0,
        input_id: "in-x",
        attempt: 1,
        args,
        parent: null,
      }),
    ).toThrow(/could not store call fc-x in .*state\.db/);
  });
});
