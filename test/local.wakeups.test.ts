// Nothing of faasade's wakes a container while nothing changes: not while it idles, and not while
// its input awaits (a container reported every 10 ms through a long async input, and its timer woke
// it 100 times a second when idle; on a VM every wake-up of an idle vCPU costs). Counted by the
// kernel: the timeslices of the container's main thread (/proc/<pid>/schedstat, field 3).
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { app, napPid as nap } from "./fixtures/pid-app.mjs";

afterAll(() => app.close());

const timeslices = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[2]);

describe.skipIf(!existsSync("/proc/self/schedstat"))("a local container's wake-ups (Linux /proc)", { timeout: 30_000 }, () => {
  it("an idle container is not woken", async () => {
    const pid = await nap.remote(0);
    const before = timeslices(pid);
    await sleep(1000);
    expect(timeslices(pid) - before).toBeLessThanOrEqual(5);
  });

  it("a container whose input awaits 1.5 s reports it once, not every report window", async () => {
    const pid = await nap.remote(0);
    const before = timeslices(pid);
    expect(await nap.remote(1500)).toBe(pid);
    // The input's own timer, the run message, one report that it runs, its result: a handful, not ~150.
    expect(timeslices(pid) - before).toBeLessThanOrEqual(20);
  });
});
