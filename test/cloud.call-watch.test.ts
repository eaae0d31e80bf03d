// The cloud dashboard's polled feed (src/cloud/call-watch.ts): what each look reads, and who hears.
import { describe, expect, it } from "vitest";
import { callWatch } from "../src/cloud/call-watch.js";
import type { CallSummary, FunctionRef } from "../src/dashboard/source.js";

const ref: FunctionRef = { env: "main", app: "shop", fn: "charge" };
const other: FunctionRef = { env: "main", app: "shop", fn: "refund" };
const pending = (id: string, r = ref): CallSummary => ({
  ...r,
  functionCallId: id,
  status: "PENDING",
  attempt: 1,
  startedAt: 0,
  durationMs: null,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the cloud dashboard's call watch", () => {
  it("reads a backlog of pending calls in turn, at most 50 a look, and tells each change once", async () => {
    const reads: string[][] = [];
    let look: string[] = [];
    const settled = new Set<string>();
    const watch = callWatch({
      everyMs: 30,
      functions: async () => [ref],
      newest: async () => {
        reads.push((look = []));
        return [];
      },
      again: async (last) => {
        look.push(last.functionCallId);
        return settled.has(last.functionCallId) ? { ...last, status: "SUCCESS", durationMs: 1 } : last;
      },
      failed: (err) => {
        throw err;
      },
    });
    const told: string[] = [];
    const stop = watch.add((id) => told.push(id), ref);
    for (let i = 0; i < 120; i++) watch.saw(pending(`fc-${i}`));
    expect(told).toHaveLength(120); // each new call once
    settled.add("fc-7");
    await sleep(200);
    stop();
    const looks = reads.filter((r) => r.length > 0);
    expect(Math.max(...looks.map((r) => r.length))).toBeLessThanOrEqual(50);
    expect(new Set(looks.slice(0, 3).flat()).size).toBeGreaterThanOrEqual(119); // in turn: all within three looks
    expect(told.filter((id) => id === "fc-7")).toHaveLength(2); // made, then settled: told once each
    expect(watch.last("fc-7")?.status).toBe("SUCCESS");
  });

  it("tells a listener of its own function's calls only, and stops looking with no listener", async () => {
    let looks = 0;
    const watch = callWatch({
      everyMs: 20,
      functions: async () => [ref, other],
      newest: async (r) => {
        looks++;
        return [pending(`fc-${r.fn}`, r)];
      },
      again: async (last) => last,
      failed: () => {},
    });
    const mine: string[] = [];
    const all: string[] = [];
    const stopMine = watch.add((id) => mine.push(id), ref);
    await sleep(60);
    const stopAll = watch.add((id) => all.push(id));
    watch.saw({ ...pending("fc-new", other) });
    await sleep(60);
    expect(mine).toEqual(["fc-charge"]);
    expect(all).toContain("fc-refund");
    expect(all).toContain("fc-new");
    stopMine();
    stopAll();
    const after = looks;
    await sleep(80);
    expect(looks).toBe(after);
  });

  it("a run of failed looks is reported once, then once per reportFailuresEveryMs, and its end once", async () => {
    let down = true;
    let looks = 0;
    const failed: number[] = [];
    const recovered: number[] = [];
    const watch = callWatch({
      everyMs: 10,
      reportFailuresEveryMs: 150,
      functions: async () => [ref],
      newest: async () => {
        looks++;
        if (down) throw new Error("store down");
        return [];
      },
      again: async (last) => last,
      failed: (_, n) => failed.push(n),
      recovered: (n) => recovered.push(n),
    });
    const stop = watch.add(() => {}, ref);
    await sleep(250);
    const failedLooks = looks;
    expect(failedLooks).toBeGreaterThan(8);
    // The first failure at once, and one more after 150 ms (counting the looks failed by then): not one a look.
    expect(failed[0]).toBe(1);
    expect(failed.length).toBeLessThanOrEqual(3);
    expect(failed.slice(1).every((n) => n > 1)).toBe(true);
    down = false;
    await sleep(60);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toBeGreaterThanOrEqual(failedLooks);
    // A new run of failures is reported at once again.
    down = true;
    await sleep(60);
    stop();
    expect(failed.at(-1)).toBe(1);
  });
});
