// How the local pool spreads prefetched inputs (src/providers/local/prefetch.ts): the depth a
// container is kept at, when a top-up is due, and the even share of a small backlog at a map's end.
import { describe, expect, it } from "vitest";
import { MAX_BATCH, fairShare, prefetchDepth } from "../src/providers/local/prefetch.js";

describe("local prefetch", () => {
  it("keeps ~50 ms of measured work per slot, between 1 and MAX_BATCH inputs, and free slots before a run time is known", () => {
    expect(prefetchDepth(undefined, 4)).toBe(4);
    expect(prefetchDepth(1, 1)).toBe(50);
    expect(prefetchDepth(1, 2)).toBe(100);
    expect(prefetchDepth(200, 1)).toBe(1);
    expect(prefetchDepth(0.001, 1)).toBe(MAX_BATCH);
  });

  it("splits a map's last inputs evenly over the containers taking prefetch, rounding up so none is left over", () => {
    // 30 inputs left and two containers: the one reporting first takes 15, not all it has room for.
    expect(fairShare(30, 2)).toBe(15);
    expect(fairShare(31, 2)).toBe(16);
    expect(fairShare(1, 3)).toBe(1);
    // A single container, or none counted (all stalled), takes the whole backlog as before.
    expect(fairShare(30, 1)).toBe(30);
    expect(fairShare(30, 0)).toBe(30);
    // A large backlog does not bind: a top-up is at most ~25 inputs of a 1 ms function.
    expect(fairShare(900, 2)).toBeGreaterThan(prefetchDepth(1, 1));
  });
});
