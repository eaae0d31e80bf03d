/**
 * The cloud dashboard's live feed of calls: a cloud tells no one when a call changes, so while a
 * page watches, the newest calls of the functions watched (one, for a function's page) are listed
 * every `everyMs`, and the pending calls seen before are read again until they settle. Listeners
 * hear of each new or changed call once.
 */
import QuickLRU from "quick-lru";
import type { CallSummary, FunctionRef } from "../dashboard/source.js";

/** Calls whose last summary is kept (what the feed sends). */
const KEPT = 5_000;
/** Pending calls read again per look, at most, beyond those on the newest pages, in turn. */
const PENDING_PER_LOOK = 50;
/** While looks keep failing (a store down), one report this often, not one a look. */
const REPORT_FAILURES_EVERY_MS = 60_000;

export interface CallWatchDeps {
  everyMs: number;
  functions(): Promise<FunctionRef[]>;
  newest(ref: FunctionRef): Promise<CallSummary[]>;
  /** The call's summary now. */
  again(last: CallSummary): Promise<CallSummary>;
  /**
   * A look failed, the `failedLooks`-th in a row: told of the first of a run, then at most once per
   * `reportFailuresEveryMs` (default a minute) while they go on. The feed goes on with the next look.
   */
  failed(err: unknown, failedLooks: number): void;
  /** A look worked after `failedLooks` failed ones. */
  recovered?(failedLooks: number): void;
  reportFailuresEveryMs?: number;
}

export interface CallWatch {
  /** Tells `changed` of every call (of `only`, where given) made or changed from now on, until the returned function is called. */
  add(changed: (callId: string) => void, only?: FunctionRef): () => void;
  /** The last summary seen of the call. */
  last(callId: string): CallSummary | undefined;
  /** A call this process just changed or made: listeners hear at once. */
  saw(summary: CallSummary): void;
}

export function callWatch(deps: CallWatchDeps): CallWatch {
  /** Each listener, and the function it watches (undefined: every function). */
  const listeners = new Map<(callId: string) => void, FunctionRef | undefined>();
  const seen = new QuickLRU<string, CallSummary>({ maxSize: KEPT });
  let timer: NodeJS.Timeout | undefined;
  let looking = false;
  /** Where the next look's re-reads of pending calls begin. */
  let turn = 0;
  let failedLooks = 0;
  let reportedAt = Number.NEGATIVE_INFINITY;
  const reportEveryMs = deps.reportFailuresEveryMs ?? REPORT_FAILURES_EVERY_MS;

  const lookFailed = (err: unknown) => {
    failedLooks++;
    if (failedLooks > 1 && Date.now() - reportedAt < reportEveryMs) return;
    reportedAt = Date.now();
    deps.failed(err, failedLooks);
  };
  const lookWorked = () => {
    if (failedLooks > 0) deps.recovered?.(failedLooks);
    failedLooks = 0;
  };

  const saw = (now: CallSummary) => {
    const before = seen.get(now.functionCallId);
    seen.set(now.functionCallId, now);
    if (before !== undefined && before.status === now.status && before.attempt === now.attempt) return;
    for (const [l, only] of listeners) if (only === undefined || same(only, now)) l(now.functionCallId);
  };

  /** Every function, if one listener watches them all; else the ones watched. */
  const watched = async (): Promise<FunctionRef[]> => {
    const only = [...listeners.values()];
    if (only.includes(undefined)) return deps.functions();
    const byName = new Map(only.map((r) => [`${r?.env}/${r?.app}/${r?.fn}`, r as FunctionRef]));
    return [...byName.values()];
  };

  const look = async () => {
    const refs = await watched();
    const listed = new Set<string>();
    for (const page of await Promise.all(refs.map(deps.newest))) {
      for (const s of page) {
        listed.add(s.functionCallId);
        saw(s);
      }
    }
    const stillPending = (s: CallSummary) =>
      s.status === "PENDING" && !listed.has(s.functionCallId) && refs.some((r) => same(r, s));
    // A backlog of pending calls is read in turn, PENDING_PER_LOOK a look, not all of them every second.
    const pending = [...seen.values()].filter(stillPending);
    const from = pending.length > PENDING_PER_LOOK ? turn % pending.length : 0;
    const now = [...pending.slice(from), ...pending.slice(0, from)].slice(0, PENDING_PER_LOOK);
    turn += now.length;
    for (const s of await Promise.all(now.map(deps.again))) saw(s);
  };
  const tick = () => {
    if (looking) return;
    looking = true;
    look()
      .then(lookWorked, lookFailed)
      .finally(() => {
        looking = false;
      });
  };

  return {
    add(changed, only) {
      listeners.set(changed, only);
      if (timer === undefined) {
        timer = setInterval(tick, deps.everyMs);
        timer.unref();
        tick();
      }
      return () => {
        listeners.delete(changed);
        if (listeners.size === 0 && timer !== undefined) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
    last: (callId) => seen.get(callId),
    saw,
  };
}

const same = (a: FunctionRef, b: FunctionRef) => a.env === b.env && a.app === b.app && a.fn === b.fn;
