// Shared by the fault tests of every cloud (test/<cloud>.faults.*.test.ts): the counts each test
// asserts and prints (runs, inputs, lost, duplicated, attempts), and the calls they make.
import { readFileSync } from "node:fs";
import type { Function_, FunctionCall } from "faasade";
import { expect } from "vitest";

/** What one fault test counts, asserted and printed. */
export interface Tally {
  fault: string;
  inputs: number;
  /** Runs of the function (from the fixture's log), all inputs together. */
  runs: number;
  /** Inputs with no right result. */
  lost: number;
  /** Results the caller received more than once for one input. */
  duplicated: number;
  /** The attempts the results carry, by attempt number. */
  attempts: Record<number, number>;
  /** From the fault's start to the last result. */
  ms: number;
  /** What the fault proxies did. */
  faults: Record<string, number>;
}

/** Counts results against the expected tags: lost (missing or wrong) and duplicated (seen twice). */
export function tallyResults(
  fault: string,
  expected: readonly string[],
  results: readonly ({ tag: string; attempt: number } | Error)[],
  runs: Map<string, number[]>,
  started: number,
  faults: Record<string, number>,
  /** When the last result came (default: now). */
  endedAt = Date.now(),
): Tally {
  const seen = new Map<string, number>();
  const attempts: Record<number, number> = {};
  for (const r of results) {
    if (r instanceof Error) continue;
    seen.set(r.tag, (seen.get(r.tag) ?? 0) + 1);
    attempts[r.attempt] = (attempts[r.attempt] ?? 0) + 1;
  }
  const want = new Set(expected);
  const lost = expected.filter((t) => (seen.get(t) ?? 0) === 0).length;
  const duplicated = [...seen.entries()].reduce((n, [t, k]) => n + (want.has(t) ? k - 1 : k), 0);
  const total = expected.reduce((n, t) => n + (runs.get(t)?.length ?? 0), 0);
  const tally = { fault, inputs: expected.length, runs: total, lost, duplicated, attempts, ms: endedAt - started, faults };
  console.log(`fault row: ${JSON.stringify(tally)}`);
  return tally;
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/** Spawns one call per tag; an error in place of a refused spawn. */
export const spawnAll = (fn: Function_<(tag: string, ms?: number) => unknown>, tags: readonly string[], ms = 0) =>
  Promise.all(tags.map((t) => fn.spawn(t, ms).then((c) => c as FunctionCall<unknown>, asError)));

/** Every result of a set of spawned calls, an error in place of a failed spawn or get. */
export const getAll = (calls: readonly (FunctionCall<unknown> | Error)[], timeoutMs: number) =>
  Promise.all(
    calls.map((c) => (c instanceof Error ? c : c.get({ timeoutMs }).then((v) => v as { tag: string; attempt: number }, asError))),
  );

/** A map's outputs, with `returnExceptions` so that a lost input is counted, not thrown. */
export async function mapAll(
  fn: Function_<(tag: string, ms?: number) => unknown>,
  tags: readonly string[],
  ms = 0,
): Promise<({ tag: string; attempt: number } | Error)[]> {
  const out: ({ tag: string; attempt: number } | Error)[] = [];
  for await (const v of fn.map(
    tags,
    tags.map(() => ms),
    { returnExceptions: true },
  ))
    out.push(v instanceof Error ? v : (v as { tag: string; attempt: number }));
  return out;
}

/** Resolves once `done()` holds, polling; rejects with `what` past `ms`. */
export async function until(what: string, done: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const tags = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Runs recorded in the fixture's log (FAULTS_RUNS_LOG), by tag: the attempt of each run. */
export function runsIn(log: string): Map<string, number[]> {
  const byTag = new Map<string, number[]>();
  for (const line of readFileSync(log, "utf8").split("\n")) {
    if (line === "") continue;
    const { tag, attempt } = JSON.parse(line) as { tag: string; attempt: number };
    byTag.set(tag, [...(byTag.get(tag) ?? []), attempt]);
  }
  return byTag;
}

/** How many of the tags starting with `prefix` have run at least once. */
export const ranSoFar = (f: { runs(): Map<string, number[]> }, prefix: string) =>
  [...f.runs().keys()].filter((t) => t.startsWith(prefix)).length;

/** Runs `n` inputs of `fn` side by side (500 ms each), so that cold starts are not what a test times. */
export async function warmUp(fn: Function_<(tag: string, ms?: number) => unknown>, n: number): Promise<void> {
  const warmed = await mapAll(fn, tags(`warm-${Date.now()}`, n), 500);
  if (warmed.some((r) => r instanceof Error)) throw new Error(`warming failed: ${warmed.find((r) => r instanceof Error)}`);
}

/** Every row lost nothing and duplicated nothing, and its calls raised no error (the first three are shown). */
export function expectNoneLost(rows: readonly Tally[], results: readonly (readonly unknown[] | undefined)[]): void {
  for (const [i, row] of rows.entries()) {
    const errors = results[i]?.filter((r) => r instanceof Error).map((e) => (e as Error).message.slice(0, 300));
    expect({ fault: row.fault, lost: row.lost, duplicated: row.duplicated, errors: errors?.slice(0, 3) }).toEqual({
      fault: row.fault,
      lost: 0,
      duplicated: 0,
      errors: [],
    });
  }
}
