// The LokiJS patches azurite runs with (src/testing/azure/loki-speedups.ts, applied by azurite-main.ts):
// a query of several conditions finds the same documents as a plain filter does, in collection order
// (Loki's index equality is loose: "01" must not find "1"), removing nothing rebuilds no index, removing one document keeps every
// index right; and azurite started by startAzurite runs under them and still answers as azurite does.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { BlobServiceClient } from "@azure/storage-blob";
import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Azurite, startAzurite } from "../dist/src/testing/azure/azurite.js";
import { type LokiModule, speedUpLoki } from "../src/testing/azure/loki-speedups.js";

interface Doc {
  /** Tells documents apart in the test (Loki's $loki is stripped before comparing). */
  seq: number;
  accountName: string;
  name: string | number;
  snapshot: string;
}
interface Collection {
  insert(doc: Doc): Doc & { $loki: number };
  find(q: object): (Doc & { $loki: number })[];
  findOne(q: object): (Doc & { $loki: number }) | null;
  findAndRemove(q: object): void;
  remove(doc: object): void;
  ensureIndex(field: string, force?: boolean): void;
}
// The lokijs azurite loads, as azurite-main.ts finds it.
const azuriteRequire = createRequire(createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js"));
const Loki = azuriteRequire("lokijs") as LokiModule & (new () => { addCollection(name: string, o: object): Collection });

/** What a query of equalities finds, by a plain filter in insertion order: what Loki finds unpatched. */
const plain = (docs: Doc[], q: Record<string, unknown>) =>
  docs.filter((d) => Object.entries(q).every(([k, v]) => (d as unknown as Record<string, unknown>)[k] === v));
const strip = (docs: object[]) =>
  docs.map((doc) => {
    const { $loki, meta, ...rest } = doc as Record<string, unknown>;
    return rest;
  });

function collection(): { coll: Collection; docs: Doc[]; rebuilds: () => number } {
  const coll = new Loki().addCollection("blobs", { indices: ["accountName", "name", "snapshot"] });
  const docs: Doc[] = [];
  const names: (string | number)[] = ["1", "01", 1, "1.0", "b", "a", "b", "c", "b", "01"];
  names.forEach((name, i) => {
    const doc = { seq: i, accountName: i % 3 === 0 ? "y" : "x", name, snapshot: i % 2 === 0 ? "" : `s${i}` };
    docs.push({ ...doc });
    coll.insert(doc);
  });
  let rebuilt = 0;
  const ensureIndex = coll.ensureIndex.bind(coll);
  coll.ensureIndex = (field, force) => {
    rebuilt++;
    ensureIndex(field, force);
  };
  return { coll, docs, rebuilds: () => rebuilt };
}

const QUERIES: Record<string, unknown>[] = [
  { accountName: "x", name: "01" },
  { accountName: "x", name: "1" },
  { accountName: "y", name: "1" },
  { accountName: "x", name: "b" },
  { accountName: "x", name: "b", snapshot: "" },
  { name: "b", accountName: "y" },
  { accountName: "x", name: "nothing" },
];

describe("the LokiJS patches azurite runs with", () => {
  beforeAll(() => speedUpLoki(Loki));

  it("find what a plain filter finds, in the collection's order", () => {
    const { coll, docs } = collection();
    // Shuffle the index's ties: remove and insert again some "b" documents.
    const b = coll.find({ accountName: "x", name: "b" })[0] as Doc & { $loki: number };
    coll.remove(b);
    const again = { seq: 100, accountName: "x", name: "b", snapshot: "" };
    coll.insert({ ...again });
    const now = [...docs.filter((d) => d.seq !== b.seq), again];
    for (const q of QUERIES) {
      expect(strip(coll.find(q)), JSON.stringify(q)).toEqual(plain(now, q));
      expect(strip([coll.findOne(q)].filter((d) => d !== null)), JSON.stringify(q)).toEqual(plain(now, q).slice(0, 1));
    }
  });

  it("remove nothing without rebuilding an index, and one document keeping every index right", () => {
    const { coll, docs, rebuilds } = collection();
    coll.remove([]);
    coll.findAndRemove({ accountName: "x", name: "nothing" });
    expect(rebuilds()).toBe(0);
    expect(coll.find({ accountName: "x" })).toHaveLength(docs.filter((d) => d.accountName === "x").length);

    const one = coll.findOne({ accountName: "x", name: "01" });
    coll.remove([one as object]);
    coll.findAndRemove({ accountName: "x", name: "c" });
    expect(rebuilds()).toBe(0);
    const gone = new Set([one?.seq, ...docs.filter((d) => d.accountName === "x" && d.name === "c").map((d) => d.seq)]);
    const left = docs.filter((d) => !gone.has(d.seq));
    for (const q of QUERIES) expect(strip(coll.find(q)), JSON.stringify(q)).toEqual(plain(left, q));
    // One condition is Loki's own indexed lookup (unpatched), in the index's order: compared as sets.
    const bySeq = (docs: object[]) => strip(docs).sort((a, b) => (a.seq as number) - (b.seq as number));
    for (const q of [{ name: "01" }, { name: "c" }, { snapshot: "" }, { accountName: "y" }])
      expect(bySeq(coll.find(q)), JSON.stringify(q)).toEqual(plain(left, q));
  });

  it("are applied once however often they are asked for", () => {
    const before = Loki.Resultset.prototype.find;
    speedUpLoki(Loki);
    expect(Loki.Resultset.prototype.find).toBe(before);
  });
});

describe("azurite started by startAzurite", () => {
  let azurite: Azurite;
  beforeAll(async () => {
    azurite = await startAzurite();
  }, 60_000);
  afterAll(async () => {
    await azurite?.close();
  });

  it("runs under the patches and answers as azurite does", async () => {
    const command = readFileSync(`/proc/${azurite.pid}/cmdline`, "utf8").split("\0");
    expect(command.some((arg) => arg.endsWith("azurite-main.js"))).toBe(true);

    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient("speedups");
    await queue.create();
    for (const text of ["a", "b", "c"]) await queue.sendMessage(text);
    const [first, second] = (await queue.receiveMessages({ numberOfMessages: 2, visibilityTimeout: 30 })).receivedMessageItems;
    expect([first?.messageText, second?.messageText]).toEqual(["a", "b"]);
    await expect(queue.deleteMessage(first?.messageId as string, "AAAAAAAAAAAAAAAAAAAAAA==")).rejects.toMatchObject({
      statusCode: 400,
    });
    await queue.deleteMessage(first?.messageId as string, first?.popReceipt as string);
    await expect(queue.deleteMessage(first?.messageId as string, first?.popReceipt as string)).rejects.toMatchObject({
      statusCode: 404,
    });
    expect((await queue.getProperties()).approximateMessagesCount).toBe(2);
    expect((await queue.peekMessages()).peekedMessageItems.map((m) => m.messageText)).toEqual(["c"]);

    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient("speedups");
    await container.create();
    for (const name of ["1", "01", "b"]) await container.getBlockBlobClient(name).upload(name, name.length);
    const text = async (name: string) => (await container.getBlockBlobClient(name).downloadToBuffer()).toString();
    expect([await text("1"), await text("01")]).toEqual(["1", "01"]);
    await container.getBlockBlobClient("01").delete();
    expect(await container.getBlockBlobClient("01").exists()).toBe(false);
    expect(await text("1")).toBe("1");
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names).toEqual(["1", "b"]);
  });
});
