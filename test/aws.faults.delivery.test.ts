// Duplicate delivery on the offline AWS backend: SQS delivers at least once, and the fault
// proxy sends every message again (later, or at once). The consumer is idempotent by result and
// retried marker (src/cloud/consumer.ts): a call has one result, with the right attempt.
import { Function_ } from "faasade";
import { afterAll, describe, expect, it } from "vitest";
import { getAll, mapAll, providerWith, spawnAll, startFaulty, tags, tallyResults, until, warm } from "./faults/harness.js";

const f = await startFaulty();
afterAll(() => f.close());
// Warm environments: a first run finishes well before its copies, 6 s later, arrive.
await warm(f);

/** Waits until the poller has consumed (deleted) `n` deliveries since the last count. */
async function deliveriesDone(n: number, ms: number): Promise<number> {
  let deleted = 0;
  await until(
    `${n} deliveries consumed`,
    () => {
      deleted += f.backend.takeRequestCounts()["sqs:DeleteMessageBatch"] ?? 0;
      return deleted >= n;
    },
    ms,
  );
  return deleted;
}

describe("duplicate SQS delivery (aws offline backend, fault proxy)", { timeout: 60_000 }, () => {
  it("a spawn delivered three times (copies 6 s later) runs once: the redeliveries find its result", async () => {
    const expected = tags("dup-late", 20);
    f.backend.takeRequestCounts();
    const started = Date.now();
    f.faults.storage.duplicateSends({ ms: 10_000, copies: 2, delaySeconds: 6 });
    const calls = await spawnAll(f.work, expected);
    const results = await getAll(calls, 20_000);
    // Every copy is received and deleted: 3 deliveries per call.
    await deliveriesDone(3 * expected.length, 20_000);
    f.faults.storage.clear();
    const t = tallyResults("sqs duplicate, late", expected, results, f.runs(), started, f.faults.storage.takeCounts());
    expect(t.faults["duplicated:sqs:SendMessageBatch"]).toBeGreaterThan(0);
    expect(t).toMatchObject({ lost: 0, duplicated: 0, runs: expected.length, attempts: { 1: expected.length } });
    for (const tag of expected) expect(f.runs().get(tag)).toEqual([1]);
  });

  it("a retried spawn delivered twice per attempt: attempt 1 runs once, attempt 2 once, the result says attempt 2", async () => {
    const expected = tags("dup-retry", 10);
    f.backend.takeRequestCounts();
    const started = Date.now();
    // The runtime's retry sends go through the proxy too, and are sent twice as well.
    f.faults.storage.duplicateSends({ ms: 15_000, copies: 1, delaySeconds: 6 });
    const calls = await spawnAll(f.flaky, expected);
    const results = await getAll(calls, 30_000);
    await deliveriesDone(4 * expected.length, 30_000);
    f.faults.storage.clear();
    const t = tallyResults("sqs duplicate, retried call", expected, results, f.runs(), started, f.faults.storage.takeCounts());
    expect(t).toMatchObject({ lost: 0, duplicated: 0, runs: 2 * expected.length, attempts: { 2: expected.length } });
    for (const tag of expected) expect(f.runs().get(tag)).toEqual([1, 2]);
  });

  it("a map through SQS whose messages arrive twice at once: each input yields once, the right value", async () => {
    const provider = await providerWith(f, { fanOutFrom: 1 });
    try {
      const work = Function_.fromName<(tag: string, ms?: number) => unknown>("faults-app", "work", { provider });
      const expected = tags("dup-now-map", 60);
      const started = Date.now();
      f.faults.storage.duplicateSends({ ms: 15_000, copies: 1, delaySeconds: 0 });
      const results = await mapAll(work, expected);
      f.faults.storage.clear();
      const t = tallyResults("sqs duplicate, at once (map)", expected, results, f.runs(), started, f.faults.storage.takeCounts());
      expect(results.map((r) => (r instanceof Error ? r.message : r.tag))).toEqual(expected);
      expect(t).toMatchObject({ lost: 0, duplicated: 0 });
      // Each input ran once or twice (both copies may run side by side): never more.
      expect(t.runs).toBeGreaterThanOrEqual(expected.length);
      expect(t.runs).toBeLessThanOrEqual(2 * expected.length);
    } finally {
      await provider.close();
    }
  });
});
