/** The object store primitive on S3: one bucket, the SDK imported lazily, large bodies in parts. */
import type { S3Client } from "@aws-sdk/client-s3";
import type { ObjectStore } from "../../cloud/primitives.js";
import { type Clients, awsCall, isMissing, providerError } from "./clients.js";

/** Above this, a body goes up as a multipart upload: large objects are safer in pieces. */
const PART_BYTES = 8 * 1024 * 1024;
/** DeleteObjects takes at most 1 000 keys. */
const DELETE_BATCH = 1000;

let sdk: Promise<typeof import("@aws-sdk/client-s3")> | undefined;
const S = () => (sdk ??= import("@aws-sdk/client-s3"));

export function s3Store(clients: Clients, bucket: string): ObjectStore {
  const client = () => clients.s3();
  const head = async (key: string) => {
    const [s3, { HeadObjectCommand }] = await Promise.all([client(), S()]);
    try {
      return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw providerError(`HeadObject ${bucket}/${key}`, err);
    }
  };
  return {
    async get(key) {
      const [s3, { GetObjectCommand }] = await Promise.all([client(), S()]);
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await got.Body?.transformToByteArray()) ?? new Uint8Array();
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw providerError(`GetObject ${bucket}/${key}`, err);
      }
    },
    has: async (key) => (await head(key)) !== undefined,
    modifiedAt: async (key) => (await head(key))?.LastModified?.getTime() ?? undefined,
    async put(key, body, options = {}) {
      const bytes = typeof body === "string" ? Buffer.from(body) : body;
      if (bytes.byteLength > PART_BYTES && options.ifAbsent !== true) {
        await putInParts(await client(), bucket, key, bytes);
        return true;
      }
      const [s3, { PutObjectCommand }] = await Promise.all([client(), S()]);
      // Bytes with their length, even when empty (a cancel marker): a body the SDK cannot measure
      // ("" included) makes it print "Stream of unknown length" on the user's console.
      const at = { Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength };
      try {
        await s3.send(new PutObjectCommand({ ...at, ...(options.ifAbsent ? { IfNoneMatch: "*" } : {}) }));
        return true;
      } catch (err) {
        const code = (err as { name?: string; $metadata?: { httpStatusCode?: number } }).name;
        if (options.ifAbsent && (code === "PreconditionFailed" || code === "ConditionalRequestConflict")) return false;
        throw providerError(`PutObject ${bucket}/${key}`, err);
      }
    },
    async *list(prefix, options = {}) {
      const [s3, { ListObjectsV2Command }] = await Promise.all([client(), S()]);
      let token: string | undefined;
      do {
        const page = await awsCall(`ListObjectsV2 ${bucket}/${prefix}`, () =>
          s3.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              ...(token !== undefined ? { ContinuationToken: token } : options.after ? { StartAfter: options.after } : {}),
            }),
          ),
        );
        for (const o of page.Contents ?? []) if (o.Key !== undefined) yield o.Key;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    },
    async delete(keys) {
      const [s3, { DeleteObjectsCommand }] = await Promise.all([client(), S()]);
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const Objects = keys.slice(i, i + DELETE_BATCH).map((Key) => ({ Key }));
        await awsCall(`DeleteObjects ${bucket}`, () =>
          s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects } })),
        );
      }
    },
  };
}

async function putInParts(s3: S3Client, bucket: string, key: string, body: Uint8Array): Promise<void> {
  const { CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand } = await S();
  const at = { Bucket: bucket, Key: key };
  await awsCall(`multipart upload of ${bucket}/${key}`, async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand(at));
    const parts: { ETag: string | undefined; PartNumber: number }[] = [];
    for (let offset = 0, n = 1; offset < body.byteLength; offset += PART_BYTES, n++) {
      const part = await s3.send(
        new UploadPartCommand({ ...at, UploadId, PartNumber: n, Body: body.subarray(offset, offset + PART_BYTES) }),
      );
      parts.push({ ETag: part.ETag, PartNumber: n });
    }
    await s3.send(new CompleteMultipartUploadCommand({ ...at, UploadId, MultipartUpload: { Parts: parts } }));
  });
}
