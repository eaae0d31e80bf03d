// The ride-through policy of every client (src/core/transport.ts), on fake timers: passing
// failures are retried with jittered backoff for RIDE_THROUGH_MS of continuous failure (or up to
// a call's deadline), then the call fails with InternalFailure carrying the last error.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InternalFailure, NotFoundError } from "../src/core/errors.js";
import { RIDE_THROUGH_MS, TransportError, deadlineIn, rideThrough } from "../src/core/transport.js";

beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "performance"] }));
afterEach(() => vi.useRealTimers());

const down = (tries: number[]) => () => {
  tries.push(performance.now());
  return Promise.reject(new TransportError("the deployment could not be reached (ECONNREFUSED)"));
};

describe("rideThrough", () => {
  it("keeps trying for 60 s of continuous failure, then fails with InternalFailure naming the last error", async () => {
    const tries: number[] = [];
    const result = rideThrough(down(tries)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(RIDE_THROUGH_MS + 5_000);
    const err = await result;
    expect(err).toBeInstanceOf(InternalFailure);
    expect(err).not.toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(
      /could not be reached \(ECONNREFUSED\) \(still failing after 60\.\d s and \d+ tries\)/,
    );
    expect((err as Error).cause).toBeInstanceOf(TransportError);
    expect(tries.at(-1)).toBeGreaterThanOrEqual(RIDE_THROUGH_MS);
    // Backoff: many quick tries at first, then at most 2 s apart; never in lock step.
    const gaps = tries.slice(1).map((t, i) => t - (tries[i] as number));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2_000);
    expect(new Set(gaps.map((g) => Math.round(g))).size).toBeGreaterThan(gaps.length / 2);
    expect(tries.length).toBeGreaterThan(30);
  });

  it("succeeds as soon as the deployment answers again", async () => {
    let n = 0;
    const result = rideThrough(() =>
      ++n < 5 ? Promise.reject(new TransportError("reset (ECONNRESET)")) : Promise.resolve("answered"),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toBe("answered");
    expect(n).toBe(5);
  });

  it("a deadline bounds the riding: the last try is made at the deadline", async () => {
    const tries: number[] = [];
    const result = rideThrough(down(tries), { deadline: deadlineIn(3_000) }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await result).toBeInstanceOf(InternalFailure);
    expect(tries.at(-1)).toBeCloseTo(3_000, -1);
  });

  it("any other failure is final at once", async () => {
    let n = 0;
    const err = await rideThrough(() => {
      n++;
      return Promise.reject(new NotFoundError("no such call"));
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(n).toBe(1);
  });
});
