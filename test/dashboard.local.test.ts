// The dashboard's server side on a real local deployment server: auth, the JSON routes, the live
// feed, the actions. Another client (the test, through the control API) makes the calls.
import { request } from "node:http";
import { FunctionCall, InputCancelledError } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, type Page, eventually, startDashboard } from "./fixtures/dashboard-harness.js";

let d: Dashboard;
beforeAll(async () => {
  d = await startDashboard();
});
afterAll(() => d.close());

describe("the dashboard's auth", () => {
  it("refuses every request without a valid token with 401", async () => {
    for (const path of ["/dashboard", "/dashboard/api/apps", "/dashboard/api/events", "/dashboard/api/calls/fc-x"]) {
      expect((await fetch(`${d.origin}${path}`)).status).toBe(401);
      const name = `faasade_dashboard_${new URL(d.origin).port}`;
      for (const cookie of [`${name}=nope`, `${name}=%E0%A4%A`, `${name}=`, `faasade_dashboard_1=${d.token}`]) {
        expect((await fetch(`${d.origin}${path}`, { headers: { cookie } })).status).toBe(401);
      }
    }
    expect((await fetch(`${d.origin}/dashboard?token=nope`, { redirect: "manual" })).status).toBe(401);
    // A page of another name resolved to 127.0.0.1 (DNS rebinding): fetch cannot set Host, node:http can.
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(`${d.origin}/dashboard/api/apps`, { headers: { cookie: d.cookie, host: "evil.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject).end();
    });
    expect(rebound).toBe(403);
    const bearer = await fetch(`${d.origin}/dashboard/api/apps`, { headers: { authorization: `Bearer ${d.token}` } });
    expect(bearer.status).toBe(200);
  });

  it("a login URL sets an HttpOnly, SameSite=Strict cookie and redirects to the URL without the token", async () => {
    const res = await fetch(`${d.origin}/dashboard?token=${encodeURIComponent(d.token)}`, { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/dashboard");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^faasade_dashboard_\d+=[^;]+; HttpOnly; SameSite=Strict; Path=\/dashboard$/);
    expect(cookie.startsWith(`faasade_dashboard_${new URL(d.origin).port}=`)).toBe(true); // one per port
    const page = await fetch(`${d.origin}/dashboard`, { headers: { cookie: cookie.split(";")[0] as string } });
    expect(page.status).toBe(200);
    const deep = await fetch(`${d.origin}/dashboard/api/stats?token=${encodeURIComponent(d.token)}`, { redirect: "manual" });
    expect(deep.headers.get("location")).toBe("/dashboard/api/stats");
  });

  it("a POST needs the dashboard's own Origin and its cookie (403 otherwise), and does nothing", async () => {
    const call = await d.fn<(x: number) => number>("square").spawn(3);
    const path = `/dashboard/api/calls/${call.objectId}/run-again`;
    const url = `${d.origin}/dashboard/api${path.slice("/dashboard/api".length)}`;
    const noOrigin = await fetch(url, { method: "POST", headers: { cookie: d.cookie } });
    const otherSite = await fetch(url, { method: "POST", headers: { cookie: d.cookie, origin: "http://evil.example" } });
    const bearerOnly = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${d.token}`, origin: d.origin } });
    for (const res of [noOrigin, otherSite, bearerOnly]) expect(res.status).toBe(403);
    expect(((await otherSite.json()) as { error: string }).error).toContain("evil.example");
    await call.get();
    const page = await d.json<Page>("/dashboard/api/apps/main/dash-app/square/calls".slice("/dashboard/api".length));
    expect(page.calls.map((c) => c.functionCallId)).toEqual([call.objectId]); // no run again happened
  });
});

describe("the dashboard's JSON", () => {
  it("lists the deployed app, its functions with their autoscaler settings, and their live stats", async () => {
    const { apps } = await d.json<{ apps: { app: string; env: string; functions: { name: string; autoscaler: object }[] }[] }>(
      "/apps",
    );
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({ app: "dash-app", env: "main" });
    expect(apps[0]?.functions.map((f) => f.name)).toEqual(["square", "slow", "fails", "outer", "warm"]);
    expect(apps[0]?.functions.find((f) => f.name === "slow")?.autoscaler).toMatchObject({ maxContainers: 1, minContainers: 0 });
    const { stats } = await d.json<{
      stats: { fn: string; backlog: number; numTotalRunners: number; numRunningInputs: number }[];
    }>("/stats");
    expect(stats.map((s) => s.fn)).toEqual(["square", "slow", "fails", "outer", "warm"]);
    for (const s of stats) expect(s).toEqual(expect.objectContaining({ backlog: 0, numRunningInputs: 0 }));
  });

  it("a function's calls come newest first, filtered by status, a page at a time", async () => {
    const fails = d.fn<(m: string) => never>("fails");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const call = await fails.spawn(`boom ${i}`);
      await expect(call.get()).rejects.toThrow(`boom ${i}`);
      ids.push(call.objectId);
      await new Promise((r) => setTimeout(r, 3)); // distinct start times, so that the order is the spawns'
    }
    const newestFirst = [...ids].reverse();
    const all = await d.json<Page>("/apps/main/dash-app/fails/calls");
    expect(all.calls.map((c) => c.functionCallId)).toEqual(newestFirst);
    expect(all.next).toBeNull();
    expect(all.calls[0]).toMatchObject({ status: "FAILURE", attempt: 1 });
    expect(all.calls[0]?.durationMs).toBeGreaterThanOrEqual(0);
    expect((await d.json<Page>("/apps/main/dash-app/fails/calls?status=FAILURE")).calls).toHaveLength(5);
    expect((await d.json<Page>("/apps/main/dash-app/fails/calls?status=SUCCESS")).calls).toEqual([]);

    const seen: string[] = [];
    let page = await d.json<Page>("/apps/main/dash-app/fails/calls?limit=2");
    for (;;) {
      expect(page.calls.length).toBeLessThanOrEqual(2);
      seen.push(...page.calls.map((c) => c.functionCallId));
      if (page.next === null) break;
      page = await d.json<Page>(`/apps/main/dash-app/fails/calls?limit=2&before=${encodeURIComponent(page.next)}`);
    }
    expect(seen).toEqual(newestFirst);
  });

  it("a call's JSON: its result, or its error with the remote stack, and the graph of a nested call", async () => {
    const outer = await d.fn<(x: number) => number>("outer").spawn(4);
    expect(await outer.get()).toBe(17);
    const call = await d.json<{
      status: string;
      result: unknown;
      attempt: number;
      graph: {
        functionName: string;
        status: string;
        children: { functionName: string; status: string; functionCallId: string }[];
      }[];
    }>(`/calls/${outer.objectId}`);
    expect(call).toMatchObject({ stored: true, status: "SUCCESS", result: 17, attempt: 1 });
    expect(call.graph).toEqual([expect.objectContaining({ functionName: "outer", status: "SUCCESS" })]);
    expect(call.graph[0]?.children).toEqual([expect.objectContaining({ functionName: "square", status: "SUCCESS" })]);
    // A remote call made inside another: only the graph records it.
    const child = await d.json<{ stored: boolean; status: string; graph: unknown[] }>(
      `/calls/${call.graph[0]?.children[0]?.functionCallId}`,
    );
    expect(child).toMatchObject({ stored: false, functionName: "square", status: "SUCCESS" });
    expect(child.graph).toEqual([expect.objectContaining({ functionName: "square", children: [] })]);

    const failed = await d.fn<(m: string) => never>("fails").spawn("no luck");
    await expect(failed.get()).rejects.toThrow();
    const bad = await d.json<{
      error: { class: string; message: string; remote: { name: string; message: string; stack: string } };
    }>(`/calls/${failed.objectId}`);
    expect(bad.error).toMatchObject({ class: "UserCodeError", remote: { name: "RangeError", message: "no luck" } });
    expect(bad.error.message).toContain("RangeError: no luck");
    expect(bad.error.remote.stack).toContain("fails");
  });
});

describe("the dashboard's actions", () => {
  it("cancels a pending call: its get() rejects with InputCancelledError", async () => {
    const slow = d.fn<(ms: number) => number>("slow");
    const running = await slow.spawn(4_000);
    const waiting = await slow.spawn(4_000); // one container: it waits for the first
    const cancel = (id: string) => d.json<{ cancelled: boolean }>(`/calls/${id}/cancel`, { method: "POST" });
    expect(await cancel(waiting.objectId)).toEqual({ cancelled: true });
    await expect(waiting.get()).rejects.toBeInstanceOf(InputCancelledError);
    expect(await cancel(running.objectId)).toEqual({ cancelled: true });
    await expect(running.get()).rejects.toBeInstanceOf(InputCancelledError);
    expect(await cancel(running.objectId)).toEqual({ cancelled: false }); // over already
    const listed = await d.json<Page>("/apps/main/dash-app/slow/calls?status=TERMINATED");
    expect(listed.calls.map((c) => c.functionCallId)).toEqual([waiting.objectId, running.objectId]);
  });

  it("runs a call again: a new call with the same arguments and result", async () => {
    const first = await d.fn<(x: number) => number>("square").spawn(7);
    expect(await first.get()).toBe(49);
    const { functionCallId } = await d.json<{ functionCallId: string }>(`/calls/${first.objectId}/run-again`, { method: "POST" });
    expect(functionCallId).not.toBe(first.objectId);
    expect(await FunctionCall.fromId<number>(functionCallId, { provider: d.client }).get()).toBe(49);
    const page = await d.json<Page>("/apps/main/dash-app/square/calls?limit=1");
    expect(page.calls.map((c) => c.functionCallId)).toEqual([functionCallId]);
  });

  it("keeps 1 container warm: numTotalRunners becomes 1", async () => {
    const runners = async () => {
      const { stats } = await d.json<{ stats: { fn: string; numTotalRunners: number }[] }>("/stats");
      return stats.find((s) => s.fn === "warm")?.numTotalRunners;
    };
    expect(await runners()).toBe(0);
    const set = await d.json<{ autoscaler: { minContainers: number } }>("/apps/main/dash-app/warm/keep-warm", {
      method: "POST",
      body: JSON.stringify({ n: 1 }),
    });
    expect(set.autoscaler.minContainers).toBe(1);
    expect(await eventually(async () => ((await runners()) === 1 ? 1 : undefined))).toBe(1);
    const { apps } = await d.json<{ apps: { functions: { name: string; autoscaler: { minContainers: number } }[] }[] }>("/apps");
    expect(apps[0]?.functions.find((f) => f.name === "warm")?.autoscaler.minContainers).toBe(1);
    await d.json("/apps/main/dash-app/warm/keep-warm", { method: "POST", body: JSON.stringify({ n: 0 }) });
  });
});

describe("the dashboard's live feed", () => {
  it("sends stats at once, and a spawned call's summary within 2 s, as PENDING or SUCCESS", async () => {
    const abort = new AbortController();
    const res = await d.api("/events", { signal: abort.signal });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    // One read at a time: a read that loses the race to the deadline is kept for the next turn.
    let pending: ReturnType<typeof reader.read> | undefined;
    const readUntil = async (found: () => boolean, ms: number) => {
      const until = Date.now() + ms;
      while (!found()) {
        const left = until - Date.now();
        if (left <= 0) throw new Error(`not within ${ms} ms; read: ${text.slice(-500)}`);
        pending ??= reader.read();
        const next = await Promise.race([pending, new Promise<"late">((r) => setTimeout(() => r("late"), left))]);
        if (next === "late") continue;
        pending = undefined;
        if (next.done) throw new Error("the feed ended");
        text += next.value;
      }
    };
    await readUntil(() => text.includes("event: stats\ndata: "), 2_000);
    const started = Date.now();
    const call = await d.fn<(x: number) => number>("square").spawn(11);
    await readUntil(() => text.includes(call.objectId), 2_000);
    const took = Date.now() - started;
    const event = text.split("\n\n").find((e) => e.includes(call.objectId)) ?? "";
    expect(event).toMatch(/^event: calls\ndata: /);
    const { calls } = JSON.parse(event.slice(event.indexOf("data: ") + 6)) as { calls: { status: string }[] };
    expect(["PENDING", "SUCCESS"]).toContain(calls[0]?.status);
    console.log(`dashboard feed: a spawn's summary arrived ${took} ms after the spawn`);
    abort.abort();
    await reader.cancel().catch(() => {});
  });
});

describe("the dashboard's parameters", () => {
  it("answers 400 naming the bad value, 404 for what is not there, and keeps serving", async () => {
    const status = async (path: string, init: RequestInit = {}) => {
      const res = await d.api(path, init);
      return { status: res.status, error: ((await res.json()) as { error: string }).error };
    };
    const calls = "/apps/main/dash-app/square/calls";
    const cases: [string, RequestInit, number, string][] = [
      [`${calls}?limit=0`, {}, 400, '"0"'],
      [`${calls}?limit=201`, {}, 400, '"201"'],
      [`${calls}?limit=ten`, {}, 400, '"ten"'],
      [`${calls}?status=DONE`, {}, 400, '"DONE"'],
      [`${calls}?before=yesterday`, {}, 400, '"yesterday"'],
      [`${calls}?sort=asc`, {}, 400, '"sort"'],
      ["/apps/main/dash-app/sq%20uare/calls", {}, 400, '"sq uare"'],
      ["/apps/main/dash-app/nothing/calls", {}, 404, "nothing"],
      ["/calls/xyz", {}, 400, '"xyz"'],
      ["/calls/fc-unknown", {}, 404, "fc-unknown"],
      ["/calls/fc-unknown/cancel", { method: "POST" }, 404, "fc-unknown"],
      ["/apps/main/dash-app/warm/keep-warm", { method: "POST", body: '{"n": -1}' }, 400, "-1"],
      ["/apps/main/dash-app/warm/keep-warm", { method: "POST", body: '{"n": "one"}' }, 400, '"one"'],
      ["/apps/main/dash-app/warm/keep-warm", { method: "POST", body: '{"n": 100000}' }, 400, "100000"],
      ["/apps/main/dash-app/warm/keep-warm", { method: "POST", body: "{n: 1" }, 400, "not JSON"],
      ["/nowhere", {}, 404, "/dashboard/api/nowhere"],
      ["/events?fn=main/dash-app", {}, 400, '"main/dash-app"'],
      ["/events?fn=main/dash-app/sq%20uare", {}, 400, '"sq uare"'],
      ["/events?calls=some", {}, 400, '"some"'],
      ["/events?calls=none&fn=main/dash-app/square", {}, 400, '"none"'],
      ["/events?since=1", {}, 400, '"since"'],
    ];
    for (const [path, init, want, named] of cases) {
      const got = await status(path, init);
      expect({ path, status: got.status }).toEqual({ path, status: want });
      expect(got.error).toContain(named);
    }
    expect((await d.json<{ apps: unknown[] }>("/apps")).apps).toHaveLength(1);
  });
});
