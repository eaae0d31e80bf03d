/**
 * Conformance rows for cancellation and call graphs. Terminating containers is a declared
 * capability (`canTerminateContainers`): where it is declared the row asserts it, elsewhere a
 * row checks the refusal, and each skips the other by name.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecutionError, InputCancelledError } from "../core/errors.js";
import { NOT_ISOLATED, type RowContext, statsOf, waitFor } from "./conformance-context.js";

export function cancelRows({ vt, f, provider, isolated }: RowContext): void {
  const { expect, it } = vt;
  const dir = mkdtempSync(join(tmpdir(), "faasade-conformance-"));

  it("cancelling a queued call: it never runs, get rejects with InputCancelledError", async () => {
    const fn = f("slot");
    const first = await fn.spawn(800, join(dir, "first"));
    const queued = await fn.spawn(0, join(dir, "queued"));
    // A cold container may take seconds on a loaded machine; the row's own timeout bounds the wait.
    await waitFor("the first call to start", () => existsSync(join(dir, "first.started")), 15_000);
    await queued.cancel();
    await expect(queued.get()).rejects.toBeInstanceOf(InputCancelledError);
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
    await call.cancel();
    await expect(call.get()).rejects.toBeInstanceOf(InputCancelledError);
    // Well before the 30 s call would have finished by itself.
    await waitFor("the running input to see its signal abort", () => existsSync(join(dir, "coop.aborted")), 10_000);
    expect((await call.getCallGraph()).map((i) => i.status)).toEqual(["TERMINATED"]);
    expect(await fn.remote(0)).toBe("finished");
  });

  it("cancelling a running call frees its container's slot: the input queued behind it runs", async () => {
    const fn = f("slot"); // one container
    const running = await fn.spawn(30_000, join(dir, "holder"));
    const queued = await fn.spawn(0, join(dir, "behind"));
    await waitFor("the first call to start", () => existsSync(join(dir, "holder.started")), 5000);
    await running.cancel();
    await expect(running.get()).rejects.toBeInstanceOf(InputCancelledError);
    expect(await queued.get({ timeoutMs: 15_000 })).toBe("finished");
    expect(existsSync(join(dir, "behind.started"))).toBe(true);
  });

  it("where containers cannot be terminated, cancel({ terminateContainers }) is refused with ExecutionError", async ({
    skip,
  }) => {
    if (provider().canTerminateContainers === true)
      skip("canTerminateContainers is declared: the next row checks it is honoured");
    const call = await f("slot").spawn(30_000);
    await expect(call.cancel({ terminateContainers: true })).rejects.toBeInstanceOf(ExecutionError);
    await call.cancel();
    await expect(call.get()).rejects.toBeInstanceOf(InputCancelledError);
  });

  it("cancelling a busy-looping call with terminateContainers stops it, and the function works afterwards", {
    timeout: 60_000,
  }, async ({ skip }) => {
    if (provider().canTerminateContainers !== true)
      skip("canTerminateContainers is not declared: the row above checks the refusal");
    skip(!isolated, NOT_ISOLATED);
    const fn = f("busy");
    const call = await fn.spawn(60_000);
    await waitFor("the busy call to run", async () => (await statsOf(fn)).numRunningInputs === 1, 5000);
    const started = Date.now();
    await call.cancel({ terminateContainers: true });
    await expect(call.get()).rejects.toBeInstanceOf(InputCancelledError);
    expect(await fn.remote(1)).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000); // the 60 s busy loop did not hold the container
  });

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
