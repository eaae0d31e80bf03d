// Rows every cloud's live suite shares (test/gcp.live.test.ts, test/azure.live.test.ts), stated once and
// declared inside a suite's describe, against its deployed fixture: `count` (a generator), `nap` (sleeps
// its argument in ms), `hello` (a public web function) and `guarded` (a web function with auth: true).
import { FunctionCall, Function_, InputCancelledError, type Provider } from "faasade";
import { expect, it } from "vitest";

export interface LiveSuite {
  /** The fixture's app name, which `hello` answers in its `x-app` header. */
  app: string;
  /** The suite's provider, made in its beforeAll. */
  provider(): Provider;
  /** A second provider of the same options, as another process makes it. */
  another(): Provider;
}

export function liveRows(suite: LiveSuite): void {
  const fn = <F extends (...args: never[]) => unknown>(name: string) =>
    Function_.fromName<F>(suite.app, name, { provider: suite.provider() });

  it("a generator streams its values, and a spawned one is read with getGen", async () => {
    const streamed: number[] = [];
    for await (const v of fn<(n: number) => AsyncGenerator<number>>("count").remoteGen(4)) streamed.push(v);
    expect(streamed).toEqual([0, 1, 2, 3]);
    const call = await fn<(n: number) => AsyncGenerator<number>>("count").spawn(3);
    const spawned: number[] = [];
    for await (const v of call.getGen()) spawned.push(v as number);
    expect(spawned).toEqual([0, 1, 2]);
  });

  it("FunctionCall.fromId reaches a spawned call from another provider instance", async () => {
    const call = await fn<(ms: number) => Promise<number>>("nap").spawn(1500);
    const elsewhere = suite.another();
    try {
      const found = FunctionCall.fromId<number>(call.objectId, { provider: elsewhere });
      expect(await found.get({ timeoutMs: 300_000 })).toBe(1500);
    } finally {
      await elsewhere.close?.();
    }
  });

  it("cancel: a spawned input is TERMINATED and get rejects with InputCancelledError", async () => {
    const call = await fn<(ms: number) => Promise<number>>("nap").spawn(170_000);
    await call.cancel();
    await expect(call.get({ timeoutMs: 300_000 })).rejects.toBeInstanceOf(InputCancelledError);
  });

  it("a web function's URL is public; one with auth: true refuses a request without credentials", async () => {
    const url = await fn("hello").getWebUrl();
    expect(url).toMatch(/^https:\/\//);
    const res = await fetch(`${url}?name=live`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-app")).toBe(suite.app);
    expect(await res.text()).toBe("hello live");

    const guarded = await fn("guarded").getWebUrl();
    expect(guarded).toMatch(/^https:\/\//);
    const refused = await fetch(String(guarded));
    await refused.body?.cancel();
    expect([401, 403]).toContain(refused.status);
  });
}
