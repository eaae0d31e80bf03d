/**
 * Conformance rows for the autoscaler and stats. A provider that cannot honour a setting
 * declares it (`unsupported` in the autoscaler result): the row for the setting is then skipped
 * by name, and a row of its own checks that the stats do not pretend otherwise.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidError } from "../core/errors.js";
import { gather } from "../core/function-call.js";
import type { FunctionStats } from "../core/provider.js";
import { type RowContext, statsOf, waitFor } from "./conformance-context.js";

const IDLE: FunctionStats = { backlog: 0, numTotalRunners: 0, numRunningInputs: 0 };

export function controlRows({ vt, f }: RowContext): void {
  const { expect, it } = vt;
  /** The settings this provider declares it does not honour, as `updateAutoscaler({})` reports them. */
  const unsupported = async (name: "warm" | "buffered") => (await f(name).updateAutoscaler({})).unsupported;

  it("updateAutoscaler validates the merged settings and changes nothing when they are invalid", async () => {
    const w = f("warm");
    await expect(w.updateAutoscaler({ minContainers: 3 })).rejects.toThrow(
      /minContainers \(3\) is greater than maxContainers \(2\)/,
    );
    await expect(w.keepWarm(-1)).rejects.toBeInstanceOf(InvalidError);
    await expect(w.keepWarm(1.5)).rejects.toThrow(/keepWarm: minContainers must be an integer .* got 1\.5/);
    await expect(w.updateAutoscaler({ maxContainers: 0 })).rejects.toBeInstanceOf(InvalidError);
    await expect(w.updateAutoscaler({ idle: 1 } as never)).rejects.toThrow(/unknown setting "idle"/);
    const same = await w.updateAutoscaler({});
    expect(same).toEqual({
      minContainers: 0,
      maxContainers: 2,
      bufferContainers: 0,
      scaledownWindowMs: 1000,
      unsupported: expect.any(Array),
    });
  });

  it("keepWarm(2) starts two idle containers that outlive the scaledown window; keepWarm(0) lets them go", async ({ skip }) => {
    if ((await unsupported("warm")).includes("minContainers")) skip("the provider declares minContainers unsupported");
    const w = f("warm");
    const result = await w.keepWarm(2);
    expect(result).toMatchObject({ minContainers: 2, maxContainers: 2, bufferContainers: 0, scaledownWindowMs: 1000 });
    await waitFor("two warm containers", async () => (await statsOf(w)).numTotalRunners === 2);
    expect(await statsOf(w)).toEqual({ backlog: 0, numTotalRunners: 2, numRunningInputs: 0 });
    await sleep(1500); // longer than scaledownWindowMs
    expect((await statsOf(w)).numTotalRunners).toBe(2);
    expect((await w.keepWarm(0)).minContainers).toBe(0);
    await waitFor("warm containers to scale down", async () => (await statsOf(w)).numTotalRunners === 0, 4000);
  });

  it("where minContainers is declared unsupported, keepWarm keeps none warm and the stats say so", async ({ skip }) => {
    if (!(await unsupported("warm")).includes("minContainers"))
      skip("the provider honours minContainers: the row above checks it");
    const w = f("warm");
    const result = await w.keepWarm(2);
    expect(result).toMatchObject({ minContainers: 2, maxContainers: 2, bufferContainers: 0, scaledownWindowMs: 1000 });
    expect(result.unsupported).toContain("minContainers");
    await sleep(200);
    expect(await statsOf(w)).toEqual(IDLE);
    await w.keepWarm(0);
  });

  it("bufferContainers keeps idle containers beside the busy ones while the function is busy", async ({ skip }) => {
    if ((await unsupported("buffered")).includes("bufferContainers")) skip("the provider declares bufferContainers unsupported");
    const b = f("buffered");
    const call = await b.spawn(1000);
    await waitFor("one busy and one buffer container", async () => {
      const s = await statsOf(b);
      return s.numRunningInputs === 1 && s.numTotalRunners === 2;
    });
    expect(await call.get()).toBe(1000);
    await waitFor("buffer containers to scale down", async () => (await statsOf(b)).numTotalRunners === 0, 4000);
  });

  it("where bufferContainers is declared unsupported, a busy function has no idle runner beside it", async ({ skip }) => {
    if (!(await unsupported("buffered")).includes("bufferContainers"))
      skip("the provider honours bufferContainers: the row above checks it");
    const b = f("buffered");
    const call = await b.spawn(800);
    await waitFor("the input to run", async () => (await statsOf(b)).numRunningInputs === 1, 5000);
    expect(await statsOf(b)).toEqual({ backlog: 0, numTotalRunners: 1, numRunningInputs: 1 });
    expect(await call.get()).toBe(800);
  });

  it("getCurrentStats shows a burst's backlog and running input, then zeros", async () => {
    const fn = f("burst");
    const calls = await Promise.all([300, 300, 300, 300].map((ms) => fn.spawn(ms)));
    await waitFor("a backlog of 3 and 1 running input", async () => {
      const s = await statsOf(fn);
      return s.backlog === 3 && s.numRunningInputs === 1 && s.numTotalRunners === 1;
    });
    expect(await gather(...calls)).toEqual([300, 300, 300, 300]);
    const after = await statsOf(fn);
    expect(Object.keys(after).sort()).toEqual(["backlog", "numRunningInputs", "numTotalRunners"]);
    expect(after.backlog).toBe(0);
    expect(after.numRunningInputs).toBe(0);
    expect(after.numTotalRunners).toBeLessThanOrEqual(1);
  });

  it("one function's load does not show in another's stats", async () => {
    const busy = f("loaded");
    // Both kinds of input: a spawned call and a remote one, which providers may run by different paths.
    // Long enough that both run at once even when the second container starts cold on a loaded machine.
    const spawned = await busy.spawn(4000);
    const direct = busy.remote(4000);
    await waitFor("two running inputs of the loaded function", async () => (await statsOf(busy)).numRunningInputs === 2, 8000);
    for (let i = 0; i < 3; i++) {
      expect(await statsOf(f("bystander"))).toEqual(IDLE);
      await sleep(100);
    }
    expect(await spawned.get()).toBe(4000);
    expect(await direct).toBe(4000);
  });

  it("lowering maxContainers drains: running inputs finish, extra containers stop after", async () => {
    const d = f("drain");
    // Long enough that both run at once even when the second container starts cold on a loaded machine.
    const calls = await Promise.all([1500, 1500].map((ms) => d.spawn(ms)));
    await waitFor("two running inputs", async () => (await statsOf(d)).numRunningInputs === 2, 5000);
    expect((await d.updateAutoscaler({ maxContainers: 1 })).maxContainers).toBe(1);
    expect(await gather(...calls)).toEqual([1500, 1500]);
    await waitFor("at most one container", async () => (await statsOf(d)).numTotalRunners <= 1);
    await d.updateAutoscaler({ maxContainers: 2 });
  });
}
