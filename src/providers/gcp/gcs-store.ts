/**
 * The object store primitive on Cloud Storage: one bucket, through the JSON API client of
 * clients.ts. Each operation is one request per object (a put is one multipart upload, never a
 * resumable session: that would be two requests or more), so the request budgets of the issue hold.
 */
import type { File, GetFilesOptions, GetFilesResponse, Storage } from "@google-cloud/storage";
import type { ObjectStore } from "../../cloud/primitives.js";
import { NotFoundError } from "../../core/errors.js";
import { type GcpClients, gcpCall } from "./clients.js";

/** Deletes in flight at once: Cloud Storage has no multi-object delete outside batch requests. */
const DELETE_PARALLEL = 16;
/** Google's largest page. */
const PAGE = 1000;

/** `undefined` where Google answered 404; every other failure as gcpCall maps it. */
async function unlessMissing<T>(operation: string, request: () => Promise<T>): Promise<T | undefined> {
  try {
    return await gcpCall(operation, request);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

const statusOf = (err: unknown) => (err as { code?: unknown })?.code;

/**
 * Each Storage's own `autoRetry`, seen before any save through it: a save without a precondition
 * (not idempotent, so not retried) turns the Storage's shared flag off and, for a simple upload,
 * never back on (@google-cloud/storage 7.22), which would leave every later read without retries.
 */
const autoRetryOf = new WeakMap<Storage, boolean>();
const keepAutoRetry = (storage: Storage) => {
  if (!autoRetryOf.has(storage)) autoRetryOf.set(storage, storage.retryOptions.autoRetry !== false);
};
const restoreAutoRetry = (storage: Storage) => {
  storage.retryOptions.autoRetry = autoRetryOf.get(storage) ?? true;
};

export function gcsStore(clients: GcpClients, bucket: string): ObjectStore {
  const file = async (key: string): Promise<File> => (await clients.storage()).bucket(bucket).file(key);
  const metadata = async (key: string) =>
    unlessMissing(`get metadata of gs://${bucket}/${key}`, async () => (await (await file(key)).getMetadata())[0]);
  return {
    async get(key) {
      const f = await file(key);
      const got = await unlessMissing(`get gs://${bucket}/${key}`, () => f.download());
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
      keepAutoRetry(storage);
      const f = storage.bucket(bucket).file(key);
      const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      return gcpCall(`put gs://${bucket}/${key}`, async () => {
        try {
          await f.save(bytes, {
            resumable: false,
            contentType: "application/octet-stream",
            // Generation 0 is "no live object": Google refuses the write with 412 if one exists.
            ...(options.ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
          });
          return true;
        } catch (err) {
          if (options.ifAbsent && statusOf(err) === 412) return false;
          throw err;
        } finally {
          if (!options.ifAbsent) restoreAutoRetry(storage);
        }
      });
    },
    async *list(prefix, options = {}) {
      const b = (await clients.storage()).bucket(bucket);
      const { after } = options;
      // startOffset is inclusive: `after` itself is skipped below.
      let query: GetFilesOptions | null = {
        prefix,
        maxResults: PAGE,
        autoPaginate: false,
        ...(after !== undefined ? { startOffset: after } : {}),
      };
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
      const b = (await clients.storage()).bucket(bucket);
      let at = 0;
      const worker = async () => {
        while (at < keys.length) {
          const key = keys[at++] as string;
          await gcpCall(`delete gs://${bucket}/${key}`, () => b.file(key).delete({ ignoreNotFound: true }));
        }
      };
      await Promise.all(Array.from({ length: Math.min(DELETE_PARALLEL, keys.length) }, worker));
    },
  };
}
