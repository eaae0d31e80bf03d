// The ids of spawned calls on clouds that list them (src/cloud/call-ids.ts): a store lists keys in
// byte order only, so a function's ids must sort newest first under one prefix of their own.
import { describe, expect, it } from "vitest";
import { callIdPrefix, listedCallId, spawnedAt } from "../src/cloud/call-ids.js";

const fn = { environment: "main", app: "shop", name: "charge" };

describe("listed call ids", () => {
  it("begin with their function's prefix, and only that function's", () => {
    const id = listedCallId(fn);
    expect(id.startsWith(callIdPrefix(fn))).toBe(true);
    expect(id).toMatch(/^fc-[0-9a-f]{10}-[0-9a-z]{9}-[0-9a-f]{16}$/);
    for (const other of [
      { ...fn, name: "refund" },
      { ...fn, app: "shop2" },
      { ...fn, environment: "dev" },
    ]) {
      expect(id.startsWith(callIdPrefix(other))).toBe(false);
    }
  });

  it("sort newest first in byte order, across digit boundaries, and tell when they were made", () => {
    const times = [0, 1, 35, 36, 1_000, Date.UTC(2026, 11, 2), Date.UTC(2026, 11, 2) + 1, Date.UTC(2999, 0, 1)];
    const ids = times.map((t) => listedCallId(fn, t));
    const sorted = [...ids].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
    expect(sorted).toEqual([...ids].reverse());
    expect(ids.map(spawnedAt)).toEqual(times);
  });

  it("are unique when made in the same millisecond, and other ids have no time", () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 1000 }, () => listedCallId(fn, now)));
    expect(ids.size).toBe(1000);
    expect(spawnedAt("fc-5b0f3c1e-4d2a-4c1b-9a8e-1f2e3d4c5b6a")).toBeUndefined();
  });
});
