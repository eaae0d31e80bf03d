// The object store primitive on S3 against fauxqs: pages past 1 000 keys, listing after a key,
// put-if-absent, and `faasade ls` on a shared bucket that holds more than one page of objects.
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { buildApp } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clients } from "../src/providers/aws/clients.js";
import { listAws } from "../src/providers/aws/list.js";
import { s3Store } from "../src/providers/aws/s3-store.js";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
let close: () => Promise<void> = async () => {};
let endpoint = "";

beforeAll(async () => {
  const server = buildApp({ logger: false });
  endpoint = await server.listen({ port: 0, host: "127.0.0.1" });
  close = () => server.close();
  const s3 = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: "store-test" }));
  await s3.send(new CreateBucketCommand({ Bucket: "team-data" }));
});
afterAll(() => close());

const sdk = () => clients({ region: "us-east-1", credentials, endpoints: { s3: endpoint } });
const all = async (it: AsyncIterable<string>) => {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out;
};

describe("aws object store on S3", { timeout: 60_000 }, () => {
  it("lists every key past the first page, in order, and after a given key", async () => {
    const store = s3Store(sdk(), "store-test");
    const keys = Array.from({ length: 1500 }, (_, i) => `chunks/fc-1/${String(i).padStart(8, "0")}`);
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => store.put(k, "v")));
    expect(await all(store.list("chunks/fc-1/"))).toEqual(keys);
    expect(await all(store.list("chunks/fc-1/", { after: keys[1199] as string }))).toEqual(keys.slice(1200));
    await store.delete(keys);
    expect(await all(store.list("chunks/fc-1/"))).toEqual([]);
  });

  it("get and has tell a missing key from a present one", async () => {
    const store = s3Store(sdk(), "store-test");
    expect(await store.put("results/fc-2.json", "first")).toBe(true);
    expect(Buffer.from((await store.get("results/fc-2.json")) ?? []).toString()).toBe("first");
    expect(await store.has("results/fc-2.json")).toBe(true);
    expect(await store.get("results/missing.json")).toBeUndefined();
    expect(await store.has("results/missing.json")).toBe(false);
  });

  it("faasade ls on a shared bucket finds apps behind more than 1 000 other objects", async () => {
    const store = s3Store(sdk(), "team-data");
    const junk = Array.from({ length: 1100 }, (_, i) => `faasade/calls/fc-${String(i).padStart(5, "0")}.json`);
    for (let i = 0; i < junk.length; i += 100) await Promise.all(junk.slice(i, i + 100).map((k) => store.put(k, "{}")));
    const manifest = { app: "zz-last", environment: "main", functions: [] };
    await store.put("faasade/main/zz-last/manifest.json", JSON.stringify(manifest));
    const apps = await listAws({ region: "us-east-1", credentials, endpoints: { s3: endpoint }, bucket: "team-data" });
    expect(apps.map((a) => a.app)).toEqual(["zz-last"]);
    expect(apps[0]?.deployedAt).toBeGreaterThan(Date.now() - 60_000);
  });
});
