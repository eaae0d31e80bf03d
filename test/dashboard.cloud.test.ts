// A cloud's dashboard (`faasade dashboard --provider <cloud>`), over each offline backend: the same
// pages' data as the local deployment's, read from the cloud layer. aws and azure list a function's
// calls (each spawn writes a record); gcp cannot, and says why, yet opens any call by its id.
import { Function_, FunctionCall, InputCancelledError } from "faasade";
import { startTestBackend } from "faasade/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The built modules, as the provider is: one copy of the core (its error classes, its call graphs).
import { cloudDashboardSource, isCloudProvider } from "../dist/src/cloud/dashboard-source.js";
import { type ServedDashboard, serveDashboard } from "../dist/src/dashboard/serve.js";
import type { CallDetail, CallPage, CallSummary, DashboardApp, FunctionStatsRow } from "../src/dashboard/source.js";

const MODULE = new URL("./fixtures/dashboard-app.mjs", import.meta.url);

async function until<T>(what: string, read: () => Promise<T>, ok: (t: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await read();
    if (ok(now)) return now;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(now).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const name of ["aws", "azure", "gcp"] as const) {
  const lists = name !== "gcp";
  describe(`the ${name} dashboard`, { timeout: 120_000 }, () => {
    let backend: Awaited<ReturnType<typeof startTestBackend>>;
    let served: ServedDashboard;
    let origin = "";
    let auth: Record<string, string> = {};
    const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${origin}/dashboard/api${path}`, { ...init, headers: { ...auth, ...init.headers } });
      return { status: res.status, body: (await res.json()) as T };
    };
    /** A POST as the page makes it: the login's cookie and the dashboard's origin. */
    let cookie = "";
    const post = <T>(path: string, body?: unknown) =>
      api<T>(path, {
        method: "POST",
        headers: { cookie, origin, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const fn = <F extends (...args: never[]) => unknown>(f: string) =>
      Function_.fromName<F>("dash-app", f, { provider: backend.provider });
    const callsOf = (f: string, query = "") => api<CallPage>(`/apps/main/dash-app/${f}/calls${query}`);

    beforeAll(async () => {
      backend = await startTestBackend(name, { module: MODULE });
      if (!isCloudProvider(backend.provider)) throw new Error(`${name}'s provider is not a cloud provider`);
      served = await serveDashboard(cloudDashboardSource(backend.provider));
      const url = new URL(served.url);
      origin = url.origin;
      const token = url.searchParams.get("token") as string;
      auth = { authorization: `Bearer ${token}` };
      const login = await fetch(served.url, { redirect: "manual" });
      cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
    }, 180_000);
    afterAll(async () => {
      await served?.close();
      await backend?.close();
    });

    it("needs its token: 401 without it, and /calls/<id> leads to the call's page", async () => {
      expect((await fetch(`${origin}/dashboard/api/apps`)).status).toBe(401);
      expect((await fetch(`${origin}/dashboard?token=nope`, { redirect: "manual" })).status).toBe(401);
      expect(cookie).toMatch(/^faasade_dashboard_\d+=/);
      const redirect = await fetch(`${origin}/calls/fc-x`, { redirect: "manual" });
      expect(redirect.status).toBe(303);
      expect(redirect.headers.get("location")).toBe("/dashboard/calls/fc-x");
    });

    it("shows the deployed app, its functions with their autoscaler settings, and live stats", async () => {
      const { body } = await api<{ apps: DashboardApp[] }>("/apps");
      const app = body.apps.find((a) => a.app === "dash-app");
      expect(app?.env).toBe("main");
      expect(app?.functions.map((f) => f.name).sort()).toEqual(["fails", "outer", "slow", "square", "warm"]);
      expect(app?.functions.find((f) => f.name === "slow")?.autoscaler.maxContainers).toBe(1);
      const stats = await api<{ stats: FunctionStatsRow[] }>("/stats");
      const square = stats.body.stats.find((s) => s.fn === "square");
      expect(square).toMatchObject({
        env: "main",
        app: "dash-app",
        backlog: expect.any(Number),
        numRunningInputs: expect.any(Number),
      });
    });

    it.runIf(lists)("lists a function's spawned calls newest first, page by page, filtered by status", async () => {
      const square = fn<(x: number) => number>("square");
      const ids: string[] = [];
      for (const x of [1, 2, 3, 4, 5]) ids.push((await square.spawn(x)).objectId);
      for (const id of ids) await FunctionCall.fromId(id, { provider: backend.provider }).get();
      const first = await callsOf("square", "?limit=3");
      expect(first.status).toBe(200);
      const newest = ids.slice().reverse();
      expect(first.body.calls.map((c) => c.functionCallId)).toEqual(newest.slice(0, 3));
      expect(first.body.next).not.toBeNull();
      const second = await callsOf("square", `?limit=3&before=${encodeURIComponent(first.body.next as string)}`);
      expect(second.body.calls.map((c) => c.functionCallId).slice(0, 2)).toEqual(newest.slice(3));
      for (const c of [...first.body.calls, ...second.body.calls].filter((c) => ids.includes(c.functionCallId))) {
        expect(c).toMatchObject({ status: "SUCCESS", attempt: 1, env: "main", app: "dash-app", fn: "square" });
        expect(c.durationMs).toBeGreaterThanOrEqual(0);
        expect(Math.abs(c.startedAt - Date.now())).toBeLessThan(120_000);
      }
      const failed = (await fn<(m: string) => never>("fails").spawn("bad input")).objectId;
      await FunctionCall.fromId(failed, { provider: backend.provider })
        .get()
        .catch(() => {});
      const onlyFailures = await callsOf("fails", "?status=FAILURE");
      expect(onlyFailures.body.calls[0]?.functionCallId).toBe(failed);
      expect((await callsOf("fails", "?status=SUCCESS")).body.calls).toEqual([]);
      expect((await callsOf("nope")).status).toBe(404);
    });

    it.runIf(!lists)("says why it cannot list calls", async () => {
      const r = await callsOf("square");
      expect(r.status).toBe(400);
      expect((r.body as unknown as { error: string }).error).toContain(`${name} cannot list calls`);
    });

    it("opens a call's page by id: its result, or its error with the remote stack, and a nested call's graph", async () => {
      const ok = await fn<(x: number) => number>("outer").spawn(6);
      expect(await ok.get()).toBe(37);
      const page = await until(
        "the outer call's graph",
        async () => (await api<CallDetail>(`/calls/${ok.objectId}`)).body,
        (c) => c.graph[0]?.children.length === 1,
      );
      expect(page).toMatchObject({ functionCallId: ok.objectId, stored: true, status: "SUCCESS", result: 37, fn: "outer" });
      const child = page.graph[0]?.children[0];
      expect(child).toMatchObject({ functionName: "square", status: "SUCCESS" });
      const nested = await api<{ stored: boolean; functionName: string; status: string }>(`/calls/${child?.functionCallId}`);
      expect(nested.body).toMatchObject({ stored: false, functionName: "square", status: "SUCCESS" });
      const bad = await fn<(m: string) => never>("fails").spawn("no good");
      await bad.get().catch(() => {});
      const failed = (await api<CallDetail>(`/calls/${bad.objectId}`)).body;
      expect(failed.status).toBe("FAILURE");
      expect(failed.error).toMatchObject({ class: "UserCodeError", remote: { name: "RangeError", message: "no good" } });
      expect(failed.error?.remote?.stack).toContain("RangeError: no good");
      expect((await api(`/calls/fc-${"0".repeat(12)}`)).status).toBe(404);
    });

    it("cancels a pending call as cancel() does, and runs a call again with its arguments", async () => {
      const slow = fn<(ms: number) => number>("slow");
      const busy = await slow.spawn(15_000);
      const waiting = await slow.spawn(10);
      const cancelled = await post<{ cancelled: boolean }>(`/calls/${waiting.objectId}/cancel`);
      expect(cancelled).toEqual({ status: 200, body: { cancelled: true } });
      await expect(FunctionCall.fromId(waiting.objectId, { provider: backend.provider }).get()).rejects.toBeInstanceOf(
        InputCancelledError,
      );
      expect((await api<CallDetail>(`/calls/${waiting.objectId}`)).body.status).toBe("TERMINATED");
      await busy.cancel();
      const square = await fn<(x: number) => number>("square").spawn(12);
      await square.get();
      const again = await post<{ functionCallId: string }>(`/calls/${square.objectId}/run-again`);
      expect(again.status).toBe(200);
      expect(again.body.functionCallId).not.toBe(square.objectId);
      expect(await FunctionCall.fromId(again.body.functionCallId, { provider: backend.provider }).get()).toBe(144);
    });

    it.runIf(lists)(
      "the live feed of a function's page tells of its call spawned elsewhere as PENDING, then SUCCESS",
      async () => {
        const events = await fetch(`${origin}/dashboard/api/events?fn=main/dash-app/slow`, { headers: auth });
        const reader = (events.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
        const seen: CallSummary[] = [];
        let text = "";
        const readUntil = async (ok: () => boolean) => {
          const deadline = Date.now() + 30_000;
          while (!ok() && Date.now() < deadline) {
            const { value, done } = await reader.read();
            if (done) break;
            text += value;
            for (const block of text.split("\n\n").slice(0, -1)) {
              const data = /^event: calls\ndata: (.*)$/m.exec(block)?.[1];
              if (data !== undefined) seen.push(...(JSON.parse(data) as { calls: CallSummary[] }).calls);
            }
            text = text.slice(text.lastIndexOf("\n\n") + 2);
          }
        };
        await new Promise((r) => setTimeout(r, 1_500)); // the feed's first look has seen what was there
        const other = await fn<(x: number) => number>("square").spawn(2); // not that function's: not told
        const call = await fn<(ms: number) => number>("slow").spawn(1_500);
        await readUntil(() => seen.some((c) => c.functionCallId === call.objectId));
        expect(seen.find((c) => c.functionCallId === call.objectId)?.status).toBe("PENDING");
        await readUntil(() => seen.some((c) => c.functionCallId === call.objectId && c.status === "SUCCESS"));
        expect(seen.filter((c) => c.functionCallId === call.objectId).map((c) => c.status)).toContain("SUCCESS");
        expect(seen.every((c) => c.fn === "slow")).toBe(true);
        expect(await other.get()).toBe(4);
        await reader.cancel();
      },
    );

    it("Keep warm sets minContainers through the provider", async () => {
      const r = await post<{ autoscaler: { minContainers: number } }>("/apps/main/dash-app/warm/keep-warm", { n: 1 });
      expect(r).toMatchObject({ status: 200, body: { autoscaler: { minContainers: 1 } } });
      const warm = await until(
        "the warm function's settings",
        async () => (await api<{ apps: DashboardApp[] }>("/apps")).body.apps,
        (apps) => apps.some((a) => a.functions.some((f) => f.name === "warm" && f.autoscaler.minContainers === 1)),
        10_000,
      );
      expect(warm.length).toBeGreaterThan(0);
      const stats = await until(
        "a warm runner",
        async () => (await api<{ stats: FunctionStatsRow[] }>("/stats")).body.stats.find((s) => s.fn === "warm"),
        (s) => s?.numTotalRunners === 1,
      );
      expect(stats?.numTotalRunners).toBe(1);
    });
  });
}
