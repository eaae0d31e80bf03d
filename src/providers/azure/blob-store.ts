/**
 * The object store primitive on one Blob Storage container. Each operation is one request per blob (a put is
 * one Put Blob, a read one Get Blob), so the request budgets hold. A put "if absent" is a Put Blob
 * with `If-None-Match: *`: Azure refuses it with 409 when the blob exists.
 */
import { buffer } from "node:stream/consumers";
import type { ContainerClient } from "@azure/storage-blob";
import { eachLimit } from "../../cloud/parallel.js";
import type { ObjectStore } from "../../cloud/primitives.js";
import { unlessNotFound } from "../../cloud/sdk-errors.js";
import { type AzureClients, azureCall, isConflict } from "./clients.js";

/** Deletes in flight at once: one request per blob (Blob Batch is not offered by every account or emulator). */
const DELETE_PARALLEL = 16;

export function blobStore(clients: AzureClients, container: string): ObjectStore {
  const at = async (): Promise<ContainerClient> => (await clients.blobs()).getContainerClient(container);
  const where = (key: string) => `blob ${container}/${key}`;
  const properties = async (key: string) => {
    const blob = (await at()).getBlobClient(key);
    return unlessNotFound(azureCall(`get the properties of ${where(key)}`, () => blob.getProperties()));
  };
  const store: ObjectStore = {
    async get(key) {
      const blob = (await at()).getBlobClient(key);
      const read = async () => readAll((await blob.download()).readableStreamBody);
      return unlessNotFound(azureCall(`get ${where(key)}`, read));
    },
    has: async (key) => (await properties(key)) !== undefined,
    modifiedAt: async (key) => (await properties(key))?.lastModified?.getTime(),
    async put(key, body, options = {}) {
      const blob = (await at()).getBlockBlobClient(key);
      const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const conditions = options.ifAbsent ? { conditions: { ifNoneMatch: "*" } } : {};
      return azureCall(`put ${where(key)}`, async () => {
        try {
          await blob.upload(bytes, bytes.byteLength, conditions);
          return true;
        } catch (err) {
          if (options.ifAbsent && isConflict(err)) return false; // BlobAlreadyExists: the first write stands
          throw err;
        }
      });
    },
    async *list(prefix, { after } = {}) {
      const container = await at();
      // Blob Storage lists from the start of a prefix only: keys up to `after` are skipped here.
      const pages = container.listBlobsFlat({ prefix }).byPage({ maxPageSize: 5000 });
      for (;;) {
        const page = await azureCall(`list ${where(prefix)}*`, () => pages.next());
        if (page.done === true) return;
        for (const item of page.value.segment.blobItems) if (after === undefined || item.name > after) yield item.name;
        if (!page.value.continuationToken) return;
      }
    },
    async delete(keys) {
      const container = await at();
      await eachLimit(keys, DELETE_PARALLEL, (key) =>
        azureCall(`delete ${where(key)}`, () => container.getBlobClient(key).deleteIfExists()).then(() => {}),
      );
    },
  };
  if (clients.storageByIdentity) store.ready = async () => void (await clients.credential());
  return store;
}

async function readAll(body: NodeJS.ReadableStream | undefined): Promise<Uint8Array> {
  const all = body === undefined ? Buffer.alloc(0) : await buffer(body);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

/** The containers of this prefix's apps in the account (container names start with the prefix, names.ts). */
export async function containersOfPrefix(clients: AzureClients, prefix: string): Promise<string[]> {
  const service = await clients.blobs();
  const names: string[] = [];
  const pages = service.listContainers({ prefix: `${prefix}-` }).byPage({ maxPageSize: 5000 });
  for (;;) {
    const page = await azureCall(`list the containers ${prefix}-*`, () => pages.next());
    if (page.done === true) return names;
    for (const c of page.value.containerItems) names.push(c.name);
    if (!page.value.continuationToken) return names;
  }
}
