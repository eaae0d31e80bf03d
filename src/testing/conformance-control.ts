/**
 * Conformance rows for the control surface: autoscaler, stats, cancellation and call graphs.
 * A provider that cannot honour a row must say so (`unsupported` in the autoscaler result, a
 * clear error elsewhere); these rows check that it does.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { ExecutionError, InputCancelledError, InvalidError } from "../core/errors.js";
import type { AnyFunction, Function_ } from "../core/function.js";
import { gather } from "../core/function-call.js";
import type { FunctionStats, Provider } from "../core/provider.js";
import type * as fixtures from "./fixtures.js";

type Fixtures = typeof fixtures;
type Name = { [K in keyof Fixtures]: Fixtures[K] extends Function_<AnyFunction> ? K : never }[keyof Fixtures];

export interface ControlContext {
  f: <K extends Name>(name: K) => Fixtures[K];
  provider: () => Provider;
  isolated: boolean;
}

/** Polls `check` every 10 ms until it holds; fails with `what` after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await sleep(10);
  }
}

const statsOf = (fn: { getCurrentStats(): Promise<FunctionStats> }) => fn.getCurrentStats();

export function controlRows({ f, provider, isolated }: ControlContext): void {
  const dir = mkdtempSync(join(tmpdir(), "faasade-conformance-"));

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

  it("keepWarm(2) starts two idle containers that outlive the scaledown window; keepWarm(0) lets them go", async () => {
    const w = f("warm");
    const result = await w.keepWarm(2);
    expect(result).toMatchObject({ minContainers: 2, maxContainers: 2, bufferContainers: 0, scaledownWindowMs: 1000 });
    if (result.unsupported.includes("minContainers")) {
      // Declared: this provider keeps no containers warm, and its stats do not pretend otherwise.
      expect((await statsOf(w)).numTotalRunners).toBe(0);
      await w.keepWarm(0);
      return;
    }
    await waitFor("two warm containers", async () => (await statsOf(w)).numTotalRunners === 2);
    expect(await statsOf(w)).toEqual({ backlog: 0, numTotalRunners: 2, numRunningInputs: 0 });
    await sleep(1500); // longer than scaledownWindowMs
    expect((await statsOf(w)).numTotalRunners).toBe(2);
    expect((await w.keepWarm(0)).minContainers).toBe(0);
    await waitFor("warm containers to scale down", async () => (await statsOf(w)).numTotalRunners === 0, 4000);
  });

  it("bufferContainers keeps idle containers beside the busy ones while the function is busy", async () => {
    const b = f("buffered");
    const result = await b.updateAutoscaler({});
    if (result.unsupported.includes("bufferContainers")) return; // declared
    const call = await b.spawn(1000);
    await waitFor("one busy and one buffer container", async () => {
      const s = await statsOf(b);
      return s.numRunningInputs === 1 && s.numTotalRunners === 2;
    });
    expect(await call.get()).toBe(1000);
    await waitFor("buffer containers to scale down", async () => (await statsOf(b)).numTotalRunners === 0, 4000);
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

  it("lowering maxContainers drains: running inputs finish, extra containers stop after", async () => {
    const d = f("drain");
    const calls = await Promise.all([600, 600].map((ms) => d.spawn(ms)));
    await waitFor("two running inputs", async () => (await statsOf(d)).numRunningInputs === 2);
    expect((await d.updateAutoscaler({ maxContainers: 1 })).maxContainers).toBe(1);
    expect(await gather(...calls)).toEqual([600, 600]);
    await waitFor("at most one container", async () => (await statsOf(d)).numTotalRunners <= 1);
    await d.updateAutoscaler({ maxContainers: 2 });
  });

  it("cancelling a queued call: it never runs, get rejects with InputCancelledError", async () => {
    const fn = f("slot");
    const first = await fn.spawn(800, join(dir, "first"));
    const queued = await fn.spawn(0, join(dir, "queued"));
    await waitFor("the first call to start", () => existsSync(join(dir, "first.started")), 5000);
    const started = Date.now();
    await queued.cancel();
    await expect(queued.get()).rejects.toBeInstanceOf(InputCancelledError);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await first.get()).toBe("finished");
    expect(await fn.remote(0)).toBe("finished"); // one container, inputs in order: the queued one would have run by now
    expect(existsSync(join(dir, "queued.started"))).toBe(false);
    await first.cancel(); // a finished call: nothing changes
    expect(await first.get()).toBe("finished");
  });

  it("cancelling a running cooperative call aborts its signal, and the function works afterwards", async () => {
    const fn = f("slot");
    const call = await fn.spawn(30_000, join(dir, "coop"));
    await waitFor("the call to start", () => existsSync(join(dir, "coop.started")), 5000);
    const started = Date.now();
    await call.cancel();
    await expect(call.get()).rejects.toBeInstanceOf(InputCancelledError);
    await waitFor("the running input to see its signal abort", () => existsSync(join(dir, "coop.aborted")));
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await call.getCallGraph()).map((i) => i.status)).toEqual(["TERMINATED"]);
    expect(await fn.remote(0)).toBe("finished");
  });

  it("terminateContainers is honoured, or refused with a clear error", async () => {
    if (provider().canTerminateContainers === true) return; // honoured: the next row shows it
    const call = await f("slot").spawn(30_000);
    await expect(call.cancel({ terminateContainers: true })).rejects.toBeInstanceOf(ExecutionError);
    await call.cancel();
    await expect(call.get()).rejects.toBeInstanceOf(InputCancelledError);
  });

  it.skipIf(!isolated)(
    "cancelling a busy-looping call with terminateContainers stops it, and the function works afterwards",
    async () => {
      if (provider().canTerminateContainers !== true) return; // declared, and checked by the row above
      const fn = f("busy");
      const call = await fn.spawn(60_000);
      await waitFor("the busy call to run", async () => (await statsOf(fn)).numRunningInputs === 1, 5000);
      const started = Date.now();
      await call.cancel({ terminateContainers: true });
      await expect(call.get()).rejects.toBeInstanceOf(InputCancelledError);
      expect(await fn.remote(1)).toBe(1);
      expect(Date.now() - started).toBeLessThan(2000);
    },
  );

  it("a call made from inside an input records its parent: one root, three children, all SUCCESS", async () => {
    const call = await f("fanOut").spawn(2);
    expect(await call.get()).toBe(4 + 9 + 16);
    const graph = await call.getCallGraph();
    expect(graph).toHaveLength(1);
    const [root] = graph;
    expect(root).toMatchObject({ functionCallId: call.objectId, functionName: "fanOut", status: "SUCCESS" });
    expect(root?.inputId).toMatch(/^in-/);
    expect(root?.taskId).not.toBe("");
    expect(root?.moduleName).toMatch(/fixtures/);
    expect(root?.children).toHaveLength(3);
    for (const child of root?.children ?? []) {
      expect(child).toMatchObject({ functionName: "square", status: "SUCCESS", children: [] });
      expect(child.functionCallId).not.toBe(call.objectId);
      expect(child.taskId).not.toBe("");
    }
    expect(new Set(root?.children.map((c) => c.functionCallId)).size).toBe(3);
  });

  it("the call graph follows calls made two levels down", async () => {
    const call = await f("nest").spawn(1);
    expect(await call.get()).toBe(1 + 4 + 9);
    const [root] = await call.getCallGraph();
    expect(root?.functionName).toBe("nest");
    expect(root?.children.map((c) => c.functionName)).toEqual(["fanOut"]);
    expect(root?.children[0]?.children.map((c) => `${c.functionName}:${c.status}`)).toEqual([
      "square:SUCCESS",
      "square:SUCCESS",
      "square:SUCCESS",
    ]);
  });
}
