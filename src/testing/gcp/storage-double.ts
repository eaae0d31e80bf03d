/**
 * A TEST DOUBLE of the Cloud Storage JSON API (no Google emulator exists for it), on 127.0.0.1
 * only, in memory, for faasade's offline tests: enough of the API for the real
 * `@google-cloud/storage` client pointed at it with `apiEndpoint`. Objects: insert (multipart
 * and media uploads in one request, resumable ones as a session of PUTs), metadata, download (`alt=media`), list (prefix, delimiter, startOffset, endOffset,
 * maxResults, pageToken), delete; generations and the `ifGenerationMatch` /
 * `ifGenerationNotMatch` preconditions (0: only if absent). Buckets: insert, get, patch (labels,
 * lifecycle), delete (409 unless empty), list. Errors in Google's JSON shape with its statuses.
 * It counts requests by operation, and for reliability tests answers the next requests with 503,
 * resets their connections (before serving them or after), or restarts. Lifecycle rules are kept, never applied.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody, sendJson as send } from "./double-http.js";
import {
  HttpError,
  Reply,
  type StoredObject,
  byBytes,
  checkPreconditions,
  hashesOf,
  media,
  splitMultipart,
} from "./storage-wire.js";

export type { StoredObject } from "./storage-wire.js";

interface Bucket {
  resource: Record<string, unknown>;
  objects: Map<string, StoredObject>;
}

/**
 * A fault for the next matching requests: Google's 503 answer; the connection reset before the
 * request is served; or "lost": served (its write kept), then the connection reset, the answer lost.
 */
export type StorageFault = "unavailable" | "reset" | "lost";

export interface StorageDouble {
  /** `http://127.0.0.1:<port>`: the client's `apiEndpoint`. */
  readonly url: string;
  /** The next `count` requests (whose operation `only` matches, e.g. /objects\.insert/) fail with `fault`. */
  failNext(count: number, fault: StorageFault, only?: RegExp): void;
  /** Drops the faults still waiting. */
  clearFaults(): void;
  /** Stops listening and cuts open connections, as a restarted service does; back after `ms`, its objects kept. */
  restart(ms: number): Promise<void>;
  /** Requests since the last call, by operation (`objects.insert`, `objects.download`, `buckets.get`, ...). */
  takeCounts(): Record<string, number>;
  /** The stored object, for assertions. */
  object(bucket: string, name: string): StoredObject | undefined;
  close(): Promise<void>;
}

/** A resumable upload under way: what the session was opened with, and the bytes so far. */
interface Session {
  bucket: string;
  name: string;
  meta: Record<string, unknown>;
  query: URLSearchParams;
  chunks: Buffer[];
  received: number;
}

export async function startStorageDouble(options: { project?: string } = {}): Promise<StorageDouble> {
  const project = options.project ?? "test-project";
  const buckets = new Map<string, Bucket>();
  let counts: Record<string, number> = {};
  const faults: { fault: StorageFault; only: RegExp | undefined }[] = [];
  let lastGeneration = 0;
  // Generations are microseconds since the epoch, as Google's are, and strictly increasing.
  const nextGeneration = () => (lastGeneration = Math.max(lastGeneration + 1, Date.now() * 1000));

  const bucketOf = (name: string) => {
    const bucket = buckets.get(name);
    if (bucket === undefined) throw new HttpError(404, "notFound", "The specified bucket does not exist.");
    return bucket;
  };
  const objectOf = (bucket: string, name: string, q: URLSearchParams) => {
    const object = bucketOf(bucket).objects.get(name);
    const generation = q.get("generation");
    if (object === undefined || (generation !== null && Number(generation) !== object.generation)) {
      throw new HttpError(404, "notFound", `No such object: ${bucket}/${name}`);
    }
    checkPreconditions(object, q);
    return object;
  };
  const resourceOf = (bucket: string, name: string, o: StoredObject) => ({
    kind: "storage#object",
    id: `${bucket}/${name}/${o.generation}`,
    selfLink: `${url}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`,
    mediaLink: `${url}/download/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?generation=${o.generation}&alt=media`,
    contentType: "application/octet-stream",
    ...o.meta,
    name,
    bucket,
    generation: String(o.generation),
    metageneration: "1",
    size: String(o.bytes.byteLength),
    md5Hash: o.md5Hash,
    crc32c: o.crc32c,
    etag: Buffer.from(String(o.generation)).toString("base64"),
    timeCreated: o.created,
    updated: o.updated,
  });

  const sessions = new Map<string, Session>();
  let lastSession = 0;

  const insertObject = async (bucket: string, req: IncomingMessage, q: URLSearchParams) => {
    bucketOf(bucket);
    const body = await readBody(req);
    const type = q.get("uploadType");
    if (type === "resumable") return openSession(bucket, req, body, q);
    let meta: Record<string, unknown> = {};
    let bytes = body;
    if (type === "multipart") [meta, bytes] = splitMultipart(body, String(req.headers["content-type"]));
    else if (type === "media") meta = { contentType: req.headers["content-type"] ?? "application/octet-stream" };
    else throw new HttpError(400, "invalid", `uploadType ${JSON.stringify(type)} is not supported by this test double`);
    return write(bucket, String(meta.name ?? q.get("name") ?? ""), meta, bytes, q);
  };

  /** A resumable upload's first request: its metadata; the answer's Location is where its bytes go. */
  const openSession = (bucket: string, req: IncomingMessage, body: Buffer, q: URLSearchParams) => {
    const meta = JSON.parse(body.toString() || "{}") as Record<string, unknown>;
    const name = String(meta.name ?? q.get("name") ?? "");
    if (name === "") throw new HttpError(400, "required", "Required");
    const contentType = req.headers["x-upload-content-type"];
    if (typeof contentType === "string") meta.contentType ??= contentType;
    const id = `session-${++lastSession}`;
    sessions.set(id, { bucket, name, meta, query: q, chunks: [], received: 0 });
    const location = `${url}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&upload_id=${id}`;
    return new Reply(200, { location, "content-length": 0 });
  };

  /** One PUT of a resumable session: its bytes at `Content-Range`; the object once all have come. */
  const continueUpload = async (id: string, req: IncomingMessage) => {
    const session = sessions.get(id);
    if (session === undefined) throw new HttpError(404, "notFound", `No such upload session: ${id}`);
    const body = await readBody(req);
    const header = String(req.headers["content-range"] ?? "bytes */*");
    const range = /^bytes (?:\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(header);
    if (range === null) throw new HttpError(400, "invalid", `Bad Content-Range: ${header}`);
    const [, from, to, size] = range;
    if (from !== undefined && Number(from) === session.received) {
      session.chunks.push(body);
      session.received += body.byteLength;
    }
    // "bytes 0-*/*": this request's body was the rest of the object.
    const total = size !== "*" ? Number(size) : to === "*" ? session.received : undefined;
    if (total === undefined || session.received < total) {
      const got = session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {};
      return new Reply(308, { ...got, "content-length": 0 });
    }
    sessions.delete(id);
    return write(session.bucket, session.name, session.meta, Buffer.concat(session.chunks), session.query);
  };

  const write = (bucket: string, name: string, meta: Record<string, unknown>, bytes: Buffer, q: URLSearchParams) => {
    const target = bucketOf(bucket);
    if (name === "") throw new HttpError(400, "required", "Required");
    checkPreconditions(target.objects.get(name), q);
    const now = new Date().toISOString();
    const { name: _n, bucket: _b, ...kept } = meta;
    const hashes = hashesOf(bytes);
    const object = { bytes, ...hashes, generation: nextGeneration(), meta: kept, created: now, updated: now };
    target.objects.set(name, object);
    return resourceOf(bucket, name, object);
  };

  const listObjects = (bucket: string, q: URLSearchParams) => {
    const { objects } = bucketOf(bucket);
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter") ?? "";
    const from = q.get("pageToken") ? Buffer.from(String(q.get("pageToken")), "base64url").toString() : q.get("startOffset");
    const end = q.get("endOffset");
    const max = Math.min(Number(q.get("maxResults") ?? 1000) || 1000, 1000);
    const entries: { name: string; prefix: boolean }[] = [];
    for (const name of [...objects.keys()].sort(byBytes)) {
      if (!name.startsWith(prefix) || (from && byBytes(name, from) < 0) || (end && byBytes(name, end) >= 0)) continue;
      const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
      const entry = cut < 0 ? { name, prefix: false } : { name: name.slice(0, cut + delimiter.length), prefix: true };
      const last = entries.at(-1);
      if (!(entry.prefix && last?.prefix && last.name === entry.name)) entries.push(entry);
    }
    const page = entries.slice(0, max);
    const next = entries[max];
    const items = page.filter((e) => !e.prefix).map((e) => resourceOf(bucket, e.name, objects.get(e.name) as StoredObject));
    const prefixes = page.filter((e) => e.prefix).map((e) => e.name);
    return {
      kind: "storage#objects",
      ...(items.length ? { items } : {}),
      ...(prefixes.length ? { prefixes } : {}),
      ...(next ? { nextPageToken: Buffer.from(next.name).toString("base64url") } : {}),
    };
  };

  const insertBucket = async (req: IncomingMessage, q: URLSearchParams) => {
    const given = JSON.parse((await readBody(req)).toString() || "{}") as Record<string, unknown>;
    const name = given.name;
    if (typeof name !== "string" || !/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(name)) {
      throw new HttpError(400, "invalid", `Invalid bucket name: '${String(name)}'`);
    }
    if (buckets.has(name)) {
      throw new HttpError(409, "conflict", "Your previous request to create the named bucket succeeded and you already own it.");
    }
    const now = new Date().toISOString();
    const resource = {
      location: "US",
      storageClass: "STANDARD",
      ...given,
      kind: "storage#bucket",
      id: name,
      name,
      projectNumber: q.get("project") ?? project,
      metageneration: "1",
      timeCreated: now,
      updated: now,
    };
    buckets.set(name, { resource, objects: new Map() });
    return resource;
  };

  const patchBucket = async (name: string, req: IncomingMessage) => {
    const bucket = bucketOf(name);
    const patch = JSON.parse((await readBody(req)).toString() || "{}") as Record<string, unknown>;
    const { resource } = bucket;
    for (const [field, value] of Object.entries(patch)) {
      if (field === "labels" && value !== null) {
        const labels = { ...(resource.labels as Record<string, string>), ...(value as Record<string, string>) };
        for (const [k, v] of Object.entries(labels)) if (v === null) delete labels[k];
        resource.labels = labels;
      } else if (value === null) delete resource[field];
      else resource[field] = value;
    }
    resource.metageneration = String(Number(resource.metageneration) + 1);
    resource.updated = new Date().toISOString();
    return resource;
  };

  /** The operation a request is, and what answers it. */
  const route = (req: IncomingMessage, path: string, q: URLSearchParams): { op: string; run: () => unknown } => {
    const method = req.method ?? "GET";
    const object = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path);
    if (object) {
      const [bucket, name] = [decodeURIComponent(object[1] as string), decodeURIComponent(object[2] as string)];
      if (method === "GET" && q.get("alt") === "media")
        return { op: "objects.download", run: () => media(objectOf(bucket, name, q)) };
      if (method === "GET") return { op: "objects.get", run: () => resourceOf(bucket, name, objectOf(bucket, name, q)) };
      if (method === "DELETE") {
        return {
          op: "objects.delete",
          run: () => {
            objectOf(bucket, name, q);
            bucketOf(bucket).objects.delete(name);
            return undefined;
          },
        };
      }
    }
    const objects = /^\/(upload\/)?storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (objects) {
      const bucket = decodeURIComponent(objects[2] as string);
      if (objects[1] && method === "POST") return { op: "objects.insert", run: () => insertObject(bucket, req, q) };
      const session = q.get("upload_id");
      if (objects[1] && method === "PUT" && session) return { op: "objects.upload", run: () => continueUpload(session, req) };
      if (!objects[1] && method === "GET") return { op: "objects.list", run: () => listObjects(bucket, q) };
    }
    const bucket = /^\/storage\/v1\/b\/([^/]+)$/.exec(path);
    if (bucket) {
      const name = decodeURIComponent(bucket[1] as string);
      if (method === "GET") return { op: "buckets.get", run: () => bucketOf(name).resource };
      if (method === "PATCH") return { op: "buckets.patch", run: () => patchBucket(name, req) };
      if (method === "DELETE") {
        return {
          op: "buckets.delete",
          run: () => {
            if (bucketOf(name).objects.size > 0)
              throw new HttpError(409, "conflict", "The bucket you tried to delete is not empty.");
            buckets.delete(name);
            return undefined;
          },
        };
      }
    }
    if (path === "/storage/v1/b" && method === "POST") return { op: "buckets.insert", run: () => insertBucket(req, q) };
    if (path === "/storage/v1/b" && method === "GET") {
      const prefix = q.get("prefix") ?? "";
      const items = [...buckets.values()].map((b) => b.resource).filter((b) => String(b.name).startsWith(prefix));
      return { op: "buckets.list", run: () => ({ kind: "storage#buckets", items }) };
    }
    return { op: `unknown ${method} ${path}`, run: () => Promise.reject(new HttpError(404, "notFound", "Not Found")) };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? "/", "http://127.0.0.1");
    let op = "unknown";
    try {
      const routed = route(req, u.pathname, u.searchParams);
      op = routed.op;
      counts[op] = (counts[op] ?? 0) + 1;
      const at = faults.findIndex((f) => f.only === undefined || f.only.test(op));
      const fault = at >= 0 ? faults.splice(at, 1)[0]?.fault : undefined;
      if (fault === "reset") return void req.socket.destroy();
      if (fault === "unavailable")
        throw new HttpError(503, "backendError", "We encountered an internal error. Please try again.");
      const answer = await routed.run();
      if (fault === "lost") return void req.socket.destroy();
      if (answer instanceof Reply) return void res.writeHead(answer.status, answer.headers).end(answer.body);
      if (answer === undefined) return void res.writeHead(204).end();
      send(res, 200, answer);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, "backendError", String(err));
      // Downloads answer errors as text, as Google's media endpoint does.
      if (op === "objects.download") return void res.writeHead(e.status, { "content-type": "text/plain" }).end(e.message);
      send(res, e.status, {
        error: { code: e.status, message: e.message, errors: [{ message: e.message, domain: "global", reason: e.reason }] },
      });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url,
    failNext(count, fault, only) {
      for (let i = 0; i < count; i++) faults.push({ fault, only });
    },
    clearFaults: () => void faults.splice(0),
    takeCounts() {
      const taken = counts;
      counts = {};
      return taken;
    },
    object: (bucket, name) => buckets.get(bucket)?.objects.get(name),
    async restart(ms) {
      await stop();
      await new Promise((r) => setTimeout(r, ms));
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    close: stop,
  };
}
