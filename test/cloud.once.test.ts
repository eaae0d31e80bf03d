// Lookups kept once they succeed (src/cloud/once.ts) and the queue whose sender needs one (deferred-queue.ts).
import { describe, expect, it } from "vitest";
import { deferredQueue } from "../src/cloud/deferred-queue.js";
import { keptBy, keptPerFunction, rememberedBy, untilFulfilled } from "../src/cloud/once.js";
import type { Queue } from "../src/cloud/primitives.js";

describe("lookups kept once they succeed", () => {
  it("keptPerFunction names each function once, told apart by environment, app and name", () => {
    let made = 0;
    const nameOf = keptPerFunction((fn: { app: string; environment: string; name?: string }) => {
      made++;
      return `${fn.environment}-${fn.app}-${fn.name ?? "*"}`;
    });
    expect(nameOf({ environment: "main", app: "a", name: "f" })).toBe("main-a-f");
    expect(nameOf({ environment: "main", app: "a", name: "f" })).toBe("main-a-f");
    expect(nameOf({ environment: "main", app: "a", name: "g" })).toBe("main-a-g");
    expect(nameOf({ environment: "dev", app: "a", name: "f" })).toBe("dev-a-f");
    expect(nameOf({ environment: "main", app: "a" })).toBe("main-a-*");
    expect(made).toBe(4);
  });

  it("keptBy makes each key's value once and hands the same one out again", () => {
    const made: string[] = [];
    const get = keptBy((key) => {
      made.push(key);
      return { key };
    });
    const a = get("a");
    expect(get("a")).toBe(a);
    expect(get("b")).toEqual({ key: "b" });
    expect(made).toEqual(["a", "b"]);
  });

  it("untilFulfilled shares one pending make, keeps a success, and tries again after a failure", async () => {
    let made = 0;
    let fail = true;
    const get = untilFulfilled(async () => {
      made++;
      if (fail) throw new Error(`failure ${made}`);
      return made;
    });
    const [a, b] = await Promise.allSettled([get(), get()]);
    expect(made).toBe(1);
    expect(a).toMatchObject({ status: "rejected" });
    expect(b).toMatchObject({ status: "rejected" });
    fail = false;
    expect(await get()).toBe(2);
    expect(await get()).toBe(2);
    expect(made).toBe(2);
  });

  it("rememberedBy looks each key up once, forgets on failure or when told, and keeps at most maxSize", async () => {
    const looked: string[] = [];
    const get = rememberedBy(
      (k: { id: string }) => k.id,
      async (k) => {
        looked.push(k.id);
        if (k.id === "bad") throw new Error("no");
        return `${k.id}!`;
      },
      2,
    );
    expect(await get({ id: "a" })).toBe("a!");
    expect(await get({ id: "a" })).toBe("a!");
    await expect(get({ id: "bad" })).rejects.toThrow("no");
    await expect(get({ id: "bad" })).rejects.toThrow("no");
    expect(looked).toEqual(["a", "bad", "bad"]);
    get.forget({ id: "a" });
    await get({ id: "a" });
    expect(looked.filter((k) => k === "a")).toHaveLength(2);
    for (const id of ["b", "c", "d"]) await get({ id });
    await get({ id: "a" }); // pushed out by newer keys (maxSize 2)
    expect(looked.filter((k) => k === "a")).toHaveLength(3);
  });
});

describe("deferred queue", () => {
  const limits = { maxBatch: 10, maxBatchBytes: 100, maxMessageBytes: 50, maxDelayMs: 1000 };

  it("has its limits at once, makes the sender on the first send, and again after a failed make", async () => {
    let makes = 0;
    const sent: string[] = [];
    const real: Queue = {
      ...limits,
      sendBatch: async (messages) => {
        sent.push(...messages.map((m) => m.body));
        return messages.map(() => undefined);
      },
    };
    const queue = deferredQueue(limits, async () => {
      makes++;
      if (makes === 1) throw new Error("lookup failed");
      return real;
    });
    expect({ ...queue, sendBatch: undefined }).toEqual({ ...limits, sendBatch: undefined });
    expect(makes).toBe(0);
    await expect(queue.sendBatch([{ body: "a" }])).rejects.toThrow("lookup failed");
    expect(await queue.sendBatch([{ body: "b" }, { body: "c" }])).toEqual([undefined, undefined]);
    await queue.sendBatch([{ body: "d" }]);
    expect(makes).toBe(2);
    expect(sent).toEqual(["b", "c", "d"]);
  });
});
