/**
 * The functions the conformance suite calls. A provider under test runs this module in its
 * containers, so everything here is defined at top level and nothing runs on import.
 */
import { setTimeout as sleepMs } from "node:timers/promises";
import { App } from "../core/app.js";
import { currentInput } from "../core/context.js";
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
export const sleep = app.function(
  async function sleep(ms: number) {
    await sleepMs(ms);
    return ms;
  },
  { maxContainers: 4 },
);
export const spin = app.function(
  function spin(ms: number) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      // burn CPU: sync code that only a kill can stop
    }
    return ms;
  },
  { timeoutMs: 1000, maxContainers: 1 },
);
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
export const count = app.function(async function* count(n: number) {
  for (let i = 0; i < n; i++) yield i;
});
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
