// Send batching: sends of one tick share requests, within the queue's limits on count and bytes.
import { describe, expect, it } from "vitest";
import { batchedSender, groups } from "../src/cloud/batching.js";
import type { Queue, QueueMessage } from "../src/cloud/primitives.js";

/** A queue that records each request it is sent, and refuses a body of "refuse". */
function recordingQueue(limits: { maxBatch: number; maxBatchBytes: number }) {
  const requests: QueueMessage[][] = [];
  const queue: Queue = {
    ...limits,
    maxMessageBytes: limits.maxBatchBytes,
    maxDelayMs: 900_000,
    async sendBatch(messages) {
      requests.push([...messages]);
      return messages.map((m) => (m.body === "refuse" ? new Error("refused") : undefined));
    },
  };
  return { queue, requests };
}

describe("send batching", () => {
  it("groups by count and by total bytes, a large message alone", () => {
    const items = [100, 100, 100, 250, 10, 10].map((bytes) => ({ bytes }));
    expect(groups(items, { maxBatch: 10, maxBatchBytes: 256 }).map((g) => g.map((i) => i.bytes))).toEqual([
      [100, 100],
      [100],
      [250],
      [10, 10],
    ]);
    expect(
      groups(
        Array.from({ length: 25 }, () => ({ bytes: 1 })),
        { maxBatch: 10, maxBatchBytes: 1e6 },
      ).map((g) => g.length),
    ).toEqual([10, 10, 5]);
  });

  it("40 sends of 200 KB in one tick never put more than 256 KiB in one request", async () => {
    const { queue, requests } = recordingQueue({ maxBatch: 10, maxBatchBytes: 256 * 1024 });
    const send = batchedSender();
    const body = "x".repeat(200 * 1024);
    await Promise.all(Array.from({ length: 40 }, () => send(queue, { body })));
    expect(requests).toHaveLength(40);
    for (const r of requests) expect(r.reduce((n, m) => n + m.body.length, 0)).toBeLessThanOrEqual(256 * 1024);
  });

  it("small sends share requests of ten; a refused entry rejects only its own send", async () => {
    const { queue, requests } = recordingQueue({ maxBatch: 10, maxBatchBytes: 256 * 1024 });
    const send = batchedSender();
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) => send(queue, { body: i === 7 ? "refuse" : `m${i}` })),
    );
    expect(requests.map((r) => r.length)).toEqual([10, 10, 5]);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect(results[7]?.status).toBe("rejected");
  });
});
