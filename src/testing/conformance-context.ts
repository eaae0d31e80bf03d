/**
 * What every group of conformance rows is given: vitest, the fixtures by name on the provider
 * under test, what the provider declares, and small waiting helpers.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { AnyFunction, Function_ } from "../core/function.js";
import type { FunctionStats, Provider } from "../core/provider.js";
import type { Vitest } from "./conformance-vitest.js";
import type * as fixtures from "./fixtures.js";

export type Fixtures = typeof fixtures;
export type Name = { [K in keyof Fixtures]: Fixtures[K] extends Function_<AnyFunction> ? K : never }[keyof Fixtures];

export interface RowContext {
  vt: Vitest;
  f: <K extends Name>(name: K) => Fixtures[K];
  provider: () => Provider;
  /** Containers are separate processes that can be killed. */
  isolated: boolean;
  /** How long the provider keeps results; undefined: not declared. */
  retentionMs: number | undefined;
  /** Web functions are served at URLs. */
  webEndpoints: boolean;
  /** The caller learns a container's exit code. */
  exitCodes: boolean;
}

/** Why a row is skipped where containers are not processes of their own. */
export const NOT_ISOLATED = "isolated: false — containers are not separate processes that can be killed";

export async function collect<T>(values: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of values) out.push(v);
  return out;
}

/** Polls `check` every 10 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await sleep(10);
  }
}

/** `run`, or a failure naming `what` once `ms` have passed: a row that would hang fails instead. */
export async function within<T>(ms: number, what: string, run: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([run, limit]);
  } finally {
    clearTimeout(timer);
  }
}

export const statsOf = (fn: { getCurrentStats(): Promise<FunctionStats> }): Promise<FunctionStats> => fn.getCurrentStats();
