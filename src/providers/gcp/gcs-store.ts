/**
 * The object store primitive on one Cloud Storage bucket. Each operation is one request per object (a put is one
 * multipart upload, never a resumable session: that would be two requests or more), so the request budgets hold.
 */
import type { GetFilesOptions, GetFilesResponse, Storage } from "@google-cloud/storage";
import { eachLimit } from "../../cloud/parallel.js";
import type { ObjectStore } from "../../cloud/primitives.js";
import { unlessNotFound } from "../../cloud/sdk-errors.js";
import { type GcpClients, gcpCall } from "./clients.js";

/** Deletes in flight at once: Cloud Storage has no multi-object delete outside batch requests. */
const DELETE_PARALLEL = 16;
/** Google's largest page. */
const PAGE = 1000;

/**
 * Each Storage's own `autoRetry`, seen before any save through it: a save without a precondition
 * (not idempotent, so not retried) turns the Storage's shared flag off and, for a simple upload,
 * never back on (@google-cloud/storage 7.22), which would leave every later read without retries.
 */
const autoRetryOf = new WeakMap<Storage, boolean>();

export function gcsStore(clients: GcpClients, bucket: string): ObjectStore {
  const at = async () => (await clients.storage()).bucket(bucket);
  const metadata = async (key: string) => {
    const file = (await at()).file(key);
    return (await unlessNotFound(gcpCall(`get metadata of gs://${bucket}/${key}`, () => file.getMetadata())))?.[0];
  };
  return {
    async get(key) {
      const f = (await at()).file(key);
      const got = await unlessNotFound(gcpCall(`get gs://${bucket}/${key}`, () => f.download()));
      return got === undefined ? undefined : new Uint8Array(got[0].buffer, got[0].byteOffset, got[0].byteLength);
    },
    has: async (key) => (await metadata(key)) !== undefined,
    async ready() {
      await (await clients.storage()).authClient.getAccessToken();
    },
    async modifiedAt(key) {
      const updated = (await metadata(key))?.updated;
      return updated === undefined ? undefined : Date.parse(String(updated));
    },
    async put(key, body, options = {}) {
      const storage = await clients.storage();
      if (!autoRetryOf.has(storage)) autoRetryOf.set(storage, storage.retryOptions.autoRetry !== false);
      const file = storage.bucket(bucket).file(key);
      const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      return gcpCall(`put gs://${bucket}/${key}`, async () => {
        try {
          // Generation 0 is "no live object": Google refuses the write with 412 if one exists.
          const precondition = options.ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {};
          await file.save(bytes, { resumable: false, contentType: "application/octet-stream", ...precondition });
          return true;
        } catch (err) {
          if (options.ifAbsent && (err as { code?: unknown })?.code === 412) return false;
          throw err;
        } finally {
          if (!options.ifAbsent) storage.retryOptions.autoRetry = autoRetryOf.get(storage) ?? true;
        }
      });
    },
    async *list(prefix, { after } = {}) {
      const b = await at();
      // startOffset is inclusive: `after` itself is skipped below.
      const first = { prefix, maxResults: PAGE, autoPaginate: false, ...(after !== undefined ? { startOffset: after } : {}) };
      let query: GetFilesOptions | null = first;
      while (query !== null) {
        const asked: GetFilesOptions = query;
        const [files, next]: GetFilesResponse = await gcpCall(`list gs://${bucket}/${prefix}`, () => b.getFiles(asked));
        for (const f of files) if (f.name !== after) yield f.name;
        // The typings say an object; at the last page the client gives null.
        const token = (next as { pageToken?: string } | null)?.pageToken;
        query = token ? { ...asked, pageToken: token } : null;
      }
    },
    async delete(keys) {
      const b = await at();
      await eachLimit(keys, DELETE_PARALLEL, (key) =>
        gcpCall(`delete gs://${bucket}/${key}`, () => b.file(key).delete({ ignoreNotFound: true })),
      );
    },
  };
}

/** The buckets whose names begin with `<prefix>-` (autoPaginate, the client's default, follows every page). */
export async function bucketsOfPrefix(clients: GcpClients, prefix: string): Promise<string[]> {
  const storage = await clients.storage();
  const [buckets] = await gcpCall(`list the buckets ${prefix}-*`, () => storage.getBuckets({ prefix: `${prefix}-` }));
  return buckets.map((b) => b.name);
}
