/**
 * The functions the conformance suite calls. A provider under test runs this module in its
 * containers, so everything here is defined at top level and nothing runs on import.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { setTimeout as sleepMs } from "node:timers/promises";
import { App } from "../core/app.js";
import { currentInput } from "../core/context.js";
import type { Function_ } from "../core/function.js";
import { Retries } from "../core/retries.js";

export const app = new App("conformance");

export const square = app.function(function square(x: number) {
  return x * x;
});
export const echo = app.function(function echo(...args: unknown[]) {
  return args;
});
export const fail = app.function(function fail(message: string, code?: string) {
  throw Object.assign(new TypeError(message), { code });
});
export const throwValue = app.function(function throwValue(value: unknown) {
  throw value;
});
export const flaky = app.function(
  function flaky(failures: number) {
    const attempt = currentInput()?.attempt ?? 0;
    if (attempt <= failures) throw new Error(`attempt ${attempt} fails`);
    return attempt;
  },
  { retries: new Retries({ maxRetries: 2, initialDelayMs: 10 }) },
);
/** Waits `ms` and returns it; registered under several names, each with its own container limits. */
async function nap(ms: number) {
  await sleepMs(ms);
  return ms;
}
/** Burns CPU for `ms` and returns it: sync code that ignores its signal, so only a kill stops it early. */
function burn(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy on purpose
  }
  return ms;
}

export const sleep = app.function(nap, { name: "sleep", maxContainers: 4 });
/** For completion order: a pool of its own, not busy with what other rows left running. */
export const race = app.function(nap, { name: "race", maxContainers: 4 });
export const spin = app.function(burn, { name: "spin", timeoutMs: 1000, maxContainers: 1 });
export const hang = app.function(
  function hang() {
    return new Promise(() => {});
  },
  { timeoutMs: 1000 },
);
export const cooperative = app.function(
  async function cooperative(ms: number) {
    const signal = currentInput()?.signal;
    try {
      await sleepMs(ms, undefined, signal ? { signal } : {});
      return "finished";
    } catch {
      return "aborted";
    }
  },
  { timeoutMs: 1000 },
);
export const exit = app.function(function exit(code: number) {
  process.exit(code);
});
export const exitOnce = app.function(
  function exitOnce() {
    const attempt = currentInput()?.attempt ?? 0;
    if (attempt === 1) process.exit(7);
    return attempt;
  },
  { retries: new Retries({ maxRetries: 1, initialDelayMs: 10 }) },
);
export const oom = app.function(
  function oom() {
    const hog: number[][] = [];
    for (;;) hog.push(new Array(1_000_000).fill(1));
  },
  { memoryMb: 64 },
);
export const context = app.function(function context() {
  const input = currentInput();
  return (
    input && {
      inputId: input.inputId,
      functionCallId: input.functionCallId,
      attempt: input.attempt,
      aborted: input.signal.aborted,
    }
  );
});
export const badResult = app.function(function badResult() {
  return { callback: () => 1 };
});
// A short timeout: a spawned run that is lost part way (the offline Lambda has stalled a streamed
// environment under load) is delivered again within the rows' bounds, as SQS does after it.
export const count = app.function(
  async function* count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  },
  { timeoutMs: 15_000 },
);
export const ticker = app.function(
  async function* ticker() {
    for (let i = 0; ; i++) {
      await sleepMs(1);
      yield i;
    }
  },
  { maxContainers: 1 },
);
export const countThenFail = app.function(function* countThenFail(n: number) {
  for (let i = 0; i < n; i++) yield i;
  throw new RangeError("done counting");
});

/** One container, one input at a time: `marker` + ".started" when it starts, + ".aborted" when its signal fires. */
export const slot = app.function(
  async function slot(ms: number, marker?: string) {
    if (marker) writeFileSync(`${marker}.started`, "");
    const signal = currentInput()?.signal;
    try {
      await sleepMs(ms, undefined, signal ? { signal } : {});
      return "finished";
    } catch {
      if (marker) writeFileSync(`${marker}.aborted`, "");
      return "aborted";
    }
  },
  { maxContainers: 1, timeoutMs: 60_000 },
);
export const busy = app.function(burn, { name: "busy", maxContainers: 1, timeoutMs: 60_000 });
export const warm = app.function(
  function warm() {
    return process.pid;
  },
  { maxContainers: 2, scaledownWindowMs: 1000 },
);
export const burst = app.function(nap, { name: "burst", maxContainers: 1 });
export const buffered = app.function(nap, { name: "buffered", maxContainers: 3, bufferContainers: 1, scaledownWindowMs: 1000 });
export const drain = app.function(nap, { name: "drain", maxContainers: 2, scaledownWindowMs: 1000 });
/** Stats per function: `loaded` runs inputs while `bystander`, never called, must read all zeros. */
export const loaded = app.function(nap, { name: "loaded", maxContainers: 2 });
export const bystander = app.function(nap, { name: "bystander", maxContainers: 1 });
/** Large arguments: their length and SHA-256, so the caller checks every byte arrived. */
export const digest = app.function(function digest(bytes: Uint8Array) {
  return `${bytes.byteLength}:${createHash("sha256").update(bytes).digest("hex")}`;
});
/** A web endpoint: answers 201 with the method and body it got, and echoes one request header. */
export const webEcho: Function_<(request: Request) => Promise<Response>, "web"> = app.function(
  async function webEcho(request: Request) {
    const body = await request.text();
    return new Response(`${request.method} ${body}`, {
      status: 201,
      headers: { "x-echo": request.headers.get("x-conformance") ?? "" },
    });
  },
  { web: { method: "POST" } },
);
/** Two `remote` calls and one `spawn` from inside: a call graph with three children. */
export const fanOut = app.function(async function fanOut(x: number) {
  const a = await square.remote(x);
  const b = await square.remote(x + 1);
  const c = await (await square.spawn(x + 2)).get();
  return a + b + c;
});
/** A call graph two levels deep: nest → fanOut → three squares. */
export const nest = app.function(async function nest(x: number) {
  return fanOut.remote(x);
});
