/**
 * A function's spawned calls, newest first, from its app's object store: the records under
 * `calls/fc-<function>-` come in that order by their ids alone (call-ids.ts), and each listed
 * call's status is its result's (read once it is settled: a settled call stays so) or PENDING. Reads
 * are what a page costs on a cloud: one listing and at most one read per call shown, none per call
 * settled before.
 * A status filter reads on until the page is full or it has looked at `SCAN_KEYS` calls.
 */
import QuickLRU from "quick-lru";
import type { InputStatus } from "../core/provider.js";
import { cursorOf, splitCursor } from "../dashboard/params.js";
import type { CallPage, CallQuery, CallSummary, FunctionRef } from "../dashboard/source.js";
import type { AppStore } from "./calls.js";
import { REMEMBERED_CALLS } from "./calls.js";
import { callIdPrefix, spawnedAt } from "./call-ids.js";
import { keysOf } from "./keys.js";
import { parseStored, type StoredResult } from "./wire.js";

/** Calls one page request looks at, at most, when a filter leaves most out. */
const SCAN_KEYS = 1_000;
/** Results read at once. */
const READS = 25;

interface Settled {
  status: InputStatus;
  attempt: number;
  finishedAt: number;
  expiresAt: number;
}

export interface CallLister {
  /** A function's calls, newest first; absent where spawns write no record to list. */
  list?(ref: FunctionRef, query: CallQuery): Promise<CallPage>;
  /**
   * The call's summary now; `startedAt` where its id does not tell (ids not made by call-ids.ts). A pending
   * call's attempt is 1 here (counting its started attempts is a listing per call); `attemptsStarted` counts.
   */
  summary(ref: FunctionRef, callId: string, startedAt?: number): Promise<CallSummary>;
  /** How many attempts of a call were started (at least 1): for its own page. */
  attemptsStarted(ref: FunctionRef, callId: string): Promise<number>;
}

export function callLister(
  storeOf: (fn: { app: string; environment: string }) => AppStore,
  { listable }: { listable: boolean },
): CallLister {
  const settled = new QuickLRU<string, Settled>({ maxSize: REMEMBERED_CALLS });

  const summary = async (ref: FunctionRef, callId: string, given?: number): Promise<CallSummary> => {
    const { store, ref: at } = storeOf({ app: ref.app, environment: ref.env });
    const keys = keysOf(at.prefix);
    const startedAt = spawnedAt(callId) ?? given ?? 0;
    let done = settled.get(callId);
    if (done === undefined) {
      const result = parseStored<StoredResult>(await store.get(keys.result(callId)));
      if (result !== undefined) {
        const { status, attempt } = result.outcome;
        done = { status, attempt, finishedAt: result.finishedAt, expiresAt: result.expiresAt };
        settled.set(callId, done);
      }
    }
    const row = { ...ref, functionCallId: callId, startedAt };
    if (done === undefined) return { ...row, status: "PENDING", attempt: 1, durationMs: null };
    const status = done.expiresAt <= Date.now() ? "EXPIRED" : done.status;
    return { ...row, status, attempt: done.attempt, durationMs: Math.max(0, done.finishedAt - startedAt) };
  };

  const list = async (ref: FunctionRef, query: CallQuery): Promise<CallPage> => {
    const { store, ref: at } = storeOf({ app: ref.app, environment: ref.env });
    const keys = keysOf(at.prefix);
    const prefix = keys.callsBeginning(callIdPrefix({ environment: ref.env, app: ref.app, name: ref.fn }));
    const before = query.before === undefined ? undefined : splitCursor(query.before)[1];
    const listed = store.list(prefix, before === undefined ? {} : { after: keys.call(before) });
    const calls: CallSummary[] = [];
    let batch: string[] = [];
    let scanned = 0;
    let last: string | undefined;
    const take = async () => {
      const rows = await Promise.all(batch.map((id) => summary(ref, id)));
      for (const row of rows) if (calls.length < query.limit && matches(row, query)) calls.push(row);
      batch = [];
    };
    for await (const key of listed) {
      const id = key.slice(keys.callsBeginning("").length, -".json".length);
      batch.push(id);
      last = id;
      scanned++;
      // Unfiltered, a page reads no more results than it shows.
      const wanted = query.status === undefined ? Math.min(READS, query.limit - calls.length) : READS;
      if (batch.length >= wanted || scanned >= SCAN_KEYS) await take();
      if (calls.length >= query.limit || scanned >= SCAN_KEYS) break;
    }
    if (batch.length > 0) await take();
    const full = calls.length >= query.limit || scanned >= SCAN_KEYS;
    const end = calls.length >= query.limit ? calls.at(-1)?.functionCallId : last;
    return { calls, next: full && end !== undefined ? cursorOf(spawnedAt(end) ?? 0, end) : null };
  };
  const attemptsStarted = async (ref: FunctionRef, callId: string): Promise<number> => {
    const { store, ref: at } = storeOf({ app: ref.app, environment: ref.env });
    let attempts = 0;
    for await (const _ of store.list(keysOf(at.prefix).startedOf(callId))) attempts++;
    return Math.max(1, attempts);
  };
  return listable ? { summary, attemptsStarted, list } : { summary, attemptsStarted };
}

const matches = (row: CallSummary, query: CallQuery) => query.status === undefined || row.status === query.status;
