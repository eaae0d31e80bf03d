// eachLimit (src/cloud/parallel.ts): every item once, never more than the limit at a time.
import { describe, expect, it } from "vitest";
import { eachLimit } from "../src/cloud/parallel.js";

describe("eachLimit", () => {
  it("works every item once, at most `limit` at a time", async () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const done: number[] = [];
    let running = 0;
    let most = 0;
    await eachLimit(items, 4, async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, i % 3));
      running--;
      done.push(i);
    });
    expect(most).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual(items);
  });

  it("does nothing for no items and rejects with the first failure", async () => {
    await eachLimit([], 4, async () => {
      throw new Error("never");
    });
    await expect(
      eachLimit([1, 2, 3], 2, async (i) => {
        if (i === 2) throw new Error("item 2");
      }),
    ).rejects.toThrow("item 2");
  });
});
