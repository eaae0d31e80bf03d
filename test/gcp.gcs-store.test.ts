// The object store primitive on Cloud Storage (gcs-store.ts) against the Cloud Storage test
// double: what ObjectStore promises (missing keys, put-if-absent and its races, listing in
// order past a page and after a key, deletes), a 20 MB body, requests per operation (the
// issue's budgets: one per put, one per get), and 503 bursts ridden through or surfaced as
// TransportError.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NotFoundError } from "../src/core/errors.js";
import { TransportError } from "../src/core/transport.js";
import { gcpClients } from "../src/providers/gcp/clients.js";
import { gcsStore } from "../src/providers/gcp/gcs-store.js";
import { type StorageDouble, startStorageDouble } from "../src/testing/gcp/storage-double.js";

process.env.METADATA_SERVER_DETECTION = "none";
let double: StorageDouble;

beforeAll(async () => {
  double = await startStorageDouble({ project: "test-project" });
  const storage = await clients().storage();
  await storage.createBucket("store-test");
});
afterAll(() => double.close());
beforeEach(() => void double.takeCounts());

const clients = () => gcpClients({ project: "test-project", endpoints: { storage: double.url } });
const store = () => gcsStore(clients(), "store-test");
const all = async (it: AsyncIterable<string>) => {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out;
};
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString());

describe("gcp object store on Cloud Storage", { timeout: 120_000 }, () => {
  it("get and has tell a missing key from a present one; put takes strings and bytes", async () => {
    const s = store();
    expect(await s.put("results/fc-1.json", "first")).toBe(true);
    expect(text(await s.get("results/fc-1.json"))).toBe("first");
    expect(await s.has("results/fc-1.json")).toBe(true);
    expect(await s.put("results/fc-1.json", new Uint8Array([104, 105]))).toBe(true);
    expect(text(await s.get("results/fc-1.json"))).toBe("hi");
    expect(await s.put("markers/empty", "")).toBe(true);
    expect(await s.get("markers/empty")).toEqual(new Uint8Array());
    expect(await s.get("results/missing.json")).toBeUndefined();
    expect(await s.has("results/missing.json")).toBe(false);
    expect(await s.modifiedAt?.("results/missing.json")).toBeUndefined();
  });

  it("a put is one request, a get one, has one; ifAbsent too", async () => {
    const s = store();
    await s.put("budget/a", "x"); // the client made and warmed before counting
    double.takeCounts();
    await s.put("budget/b", "x");
    expect(double.takeCounts()).toEqual({ "objects.insert": 1 });
    await s.put("budget/c", "x", { ifAbsent: true });
    expect(double.takeCounts()).toEqual({ "objects.insert": 1 });
    await s.get("budget/b");
    expect(double.takeCounts()).toEqual({ "objects.download": 1 });
    await s.get("budget/missing");
    expect(double.takeCounts()).toEqual({ "objects.download": 1 });
    await s.has("budget/b");
    expect(double.takeCounts()).toEqual({ "objects.get": 1 });
  });

  it("ifAbsent: true when written, false when the key had an object (which is kept)", async () => {
    const s = store();
    expect(await s.put("outcomes/fc-2", "winner", { ifAbsent: true })).toBe(true);
    expect(await s.put("outcomes/fc-2", "late", { ifAbsent: true })).toBe(false);
    expect(text(await s.get("outcomes/fc-2"))).toBe("winner");
  });

  it("10 concurrent ifAbsent puts of one key: exactly one wins, and its body is the stored one", async () => {
    const s = store();
    const bodies = Array.from({ length: 10 }, (_, i) => `writer-${i}`);
    const won = await Promise.all(bodies.map((b) => s.put("outcomes/fc-race", b, { ifAbsent: true })));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(text(await s.get("outcomes/fc-race"))).toBe(bodies[won.indexOf(true)]);
  });

  it("lists every key past the first page of 1 000, in order, after a given key, fetching pages lazily", async () => {
    const s = store();
    const keys = Array.from({ length: 2100 }, (_, i) => `chunks/fc-3/${String(i).padStart(8, "0")}`);
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => s.put(k, "v")));
    await s.put("chunks/fc-30/00000000", "another call's");
    double.takeCounts();
    expect(await all(s.list("chunks/fc-3/"))).toEqual(keys);
    expect(double.takeCounts()).toEqual({ "objects.list": 3 });
    expect(await all(s.list("chunks/fc-3/", { after: keys[1199] as string }))).toEqual(keys.slice(1200));
    expect(await all(s.list("chunks/fc-3/", { after: "chunks/fc-3/00000999x" }))).toEqual(keys.slice(1000));
    double.takeCounts();
    for await (const key of s.list("chunks/fc-3/")) {
      expect(key).toBe(keys[0]);
      break;
    }
    expect(double.takeCounts()).toEqual({ "objects.list": 1 });
    await s.delete(keys);
    expect(await all(s.list("chunks/fc-3/"))).toEqual([]);
    expect(await all(s.list("chunks/fc-30/"))).toEqual(["chunks/fc-30/00000000"]);
  });

  it("delete: missing keys are no error; many in parallel, one request each", async () => {
    const s = store();
    const keys = Array.from({ length: 50 }, (_, i) => `gone/${i}`);
    await Promise.all(keys.map((k) => s.put(k, "v")));
    double.takeCounts();
    await s.delete([...keys, "gone/never-there"]);
    expect(double.takeCounts()).toEqual({ "objects.delete": 51 });
    expect(await all(s.list("gone/"))).toEqual([]);
    await s.delete([]);
  });

  it("modifiedAt is the object's last write", async () => {
    const s = store();
    const before = Date.now();
    await s.put("faasade/main/app/manifest.json", "{}");
    const first = (await s.modifiedAt?.("faasade/main/app/manifest.json")) as number;
    expect(first).toBeGreaterThanOrEqual(before - 1000);
    expect(first).toBeLessThanOrEqual(Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 20));
    await s.put("faasade/main/app/manifest.json", "{ }");
    expect(await s.modifiedAt?.("faasade/main/app/manifest.json")).toBeGreaterThan(first);
  });

  it("a 20 MB body round-trips in one request each way", async () => {
    const s = store();
    const body = new Uint8Array(randomBytes(20 * 1024 * 1024));
    await s.put("args/fc-big", "warm");
    double.takeCounts();
    expect(await s.put("args/fc-big", body)).toBe(true);
    const back = await s.get("args/fc-big");
    expect(double.takeCounts()).toEqual({ "objects.insert": 1, "objects.download": 1 });
    expect(back?.byteLength).toBe(body.byteLength);
    expect(Buffer.from(back as Uint8Array).equals(Buffer.from(body))).toBe(true);
  });

  it("a burst of 503s: reads and conditional puts ride through it, an unconditional put surfaces TransportError", async () => {
    const s = store();
    await s.put("flaky/k", "v");
    double.takeCounts();
    // After an unconditional put (which must not leave the client's retries off), a get is retried.
    double.failNext(2, "unavailable", /objects\.download/);
    expect(text(await s.get("flaky/k"))).toBe("v");
    expect(double.takeCounts()).toEqual({ "objects.download": 3 });
    double.failNext(2, "unavailable", /objects\.list/);
    expect(await all(s.list("flaky/"))).toEqual(["flaky/k"]);
    double.failNext(1, "unavailable", /objects\.insert/);
    expect(await s.put("flaky/once", "v", { ifAbsent: true })).toBe(true);
    expect(double.takeCounts()).toEqual({ "objects.list": 3, "objects.insert": 2 });
    double.failNext(1, "unavailable", /objects\.insert/);
    const err = await s.put("flaky/k", "w").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(/put gs:\/\/store-test\/flaky\/k failed/);
    expect(text(await s.get("flaky/k"))).toBe("v");
  });

  it("a burst longer than the client's retries surfaces as TransportError; so does a reset connection", async () => {
    const s = store();
    await s.put("flaky/long", "v");
    double.takeCounts();
    double.failNext(10, "unavailable", /objects\.get/);
    const err = await s.has("flaky/long").catch((e: unknown) => e);
    double.clearFaults();
    expect(err).toBeInstanceOf(TransportError);
    expect(double.takeCounts()["objects.get"]).toBeGreaterThan(1); // retried, then given up
    expect(await s.has("flaky/long")).toBe(true);
    double.failNext(1, "reset", /objects\.insert/);
    expect(await s.put("flaky/reset", "v").catch((e: unknown) => e)).toBeInstanceOf(TransportError);
  });

  it("refusals that do not pass are the contract's errors naming the operation, not TransportError", async () => {
    const s = gcsStore(clients(), "no-such-bucket");
    const err = await s.put("k", "v").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).not.toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(/gcp put gs:\/\/no-such-bucket\/k/);
    expect(await s.get("k")).toBeUndefined();
  });
});
