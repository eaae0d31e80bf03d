import { InputCancelledError, RemoteError } from "faasade";
import { describe, expect, it } from "vitest";
import * as broken from "./fixtures/broken-app.mjs";
import * as closing from "./fixtures/close-app.mjs";
import * as control from "./fixtures/control-app.mjs";
import { app, napPid, napSpan, pidBrief } from "./fixtures/pid-app.mjs";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("local provider pools", () => {
  it("spreads slow inputs over containers instead of queueing them behind the first", async () => {
    const pids: number[] = [];
    for await (const pid of napPid.map(Array(8).fill(200))) pids.push(pid);
    expect(new Set(pids).size).toBeGreaterThan(1);
    expect(pids).not.toContain(process.pid);
  });

  it("a container with maxInputs 4 starts the next input as soon as one of its four ends", async () => {
    const spans: [number, number][] = [];
    for await (const span of napSpan.map(Array.from({ length: 16 }, (_, i) => 60 + ((i * 37) % 4) * 45))) spans.push(span);
    const othersRunningAt = (at: number, self: number) =>
      spans.filter(([start, end], i) => i !== self && start <= at && end > at).length;
    spans.sort((a, b) => a[0] - b[0]);
    const running = spans.map(([start], i) => othersRunningAt(start, i));
    // Each start after the first four replaces one input that ended: three others still run.
    expect(running.slice(4).filter((n) => n === 3).length, `others running at each start: ${running}`).toBeGreaterThanOrEqual(10);
    expect(Math.max(...running)).toBeLessThanOrEqual(3);
  });

  it("a call made while a long one runs goes to another container, not behind it (fast inputs measured first)", async () => {
    // Short inputs make the pool prefetch several per container; a long one must not take a queue.
    for (let i = 0; i < 3; i++) for await (const pid of napPid.map(Array(300).fill(0))) expect(pid).not.toBe(process.pid);
    const long = await napPid.spawn(3000);
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    const quick = await napPid.remote(0);
    const waitedMs = Date.now() - started;
    const longPid = await long.get();
    expect(quick, `the quick call ran in the long call's container after ${waitedMs} ms`).not.toBe(longPid);
    expect(waitedMs).toBeLessThan(2000);
  });

  it("a map's short inputs do not wait behind its long one: a stalled container gives back what it has not started", async () => {
    for (let i = 0; i < 3; i++) for await (const _ of napPid.map(Array(300).fill(0))) void _;
    const started = Date.now();
    const arrivals: number[] = [];
    for await (const _ of napPid.map([3000, ...Array(20).fill(0)], { orderOutputs: false })) arrivals.push(Date.now() - started);
    expect(arrivals).toHaveLength(21);
    // Twenty short inputs, then the long one: none of the short ones waited for it.
    expect(
      arrivals.filter((ms) => ms < 2000),
      `arrival times (ms): ${arrivals}`,
    ).toHaveLength(20);
  });

  it("stops an idle container after scaledownWindowMs, and not while it is used", async () => {
    const pid = await pidBrief.remote();
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 150));
      expect(await pidBrief.remote()).toBe(pid); // each call restarts the idle window
    }
    expect(alive(pid)).toBe(true);
    const deadline = Date.now() + 3000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
    await app.close();
  });

  it("settles every call still queued or running when the app closes, and refuses new ones", async () => {
    await closing.nap.remote(1); // a container is up
    const running = closing.nap.remote(5000);
    const queued = closing.nap.remote(5000);
    await new Promise((r) => setTimeout(r, 100));
    await closing.app.close();
    // Both at once: the queued call may settle first (from the pool's queue), the running one when its container exits.
    await Promise.all([expect(running).rejects.toBeInstanceOf(RemoteError), expect(queued).rejects.toBeInstanceOf(RemoteError)]);
    await expect(closing.nap.remote(1)).rejects.toThrow(/closed/);
  });

  it("a module that cannot be imported in its container fails the call with RemoteError, and nothing hangs", async () => {
    const err = await broken.unreachable.remote().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as Error).message).toMatch(/could not start: boom at import/);
    expect(((err as Error).cause as Error).message).toBe("boom at import");
    await broken.app.close();
  });
});

describe("local provider control surface", () => {
  const waitFor = async (check: () => Promise<boolean>, timeoutMs = 3000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it("terminateContainers stops the container and runs its other inputs again elsewhere, same attempt", async () => {
    const { pid: first } = await control.pairNap.remote(0);
    const long = await control.pairNap.spawn(30_000);
    const short = await control.pairNap.spawn(400);
    await waitFor(async () => (await control.pairNap.getCurrentStats()).numRunningInputs === 2);
    await long.cancel({ terminateContainers: true });
    await expect(long.get()).rejects.toBeInstanceOf(InputCancelledError);
    const rerun = await short.get();
    expect(rerun.attempt).toBe(1);
    expect(rerun.pid).not.toBe(first);
    expect(alive(first)).toBe(false);
  });

  it("minContainers given at definition are the starting settings: the first use warms the pool", async () => {
    await control.warmFromStart.remote();
    await waitFor(async () => (await control.warmFromStart.getCurrentStats()).numTotalRunners === 2);
    await new Promise((r) => setTimeout(r, 800)); // past scaledownWindowMs
    expect((await control.warmFromStart.getCurrentStats()).numTotalRunners).toBe(2);
    expect(await control.warmFromStart.keepWarm(0)).toEqual({
      minContainers: 0,
      maxContainers: 3,
      bufferContainers: 0,
      scaledownWindowMs: 500,
      unsupported: [],
    });
    await waitFor(async () => (await control.warmFromStart.getCurrentStats()).numTotalRunners === 0);
    await control.app.close();
  });
});
