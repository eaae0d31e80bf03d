// What every cloud's fault scenarios (delivery.ts, storms.ts, restart.ts) need of its offline
// backend behind fault proxies: the fixture's functions, the runs they recorded, and the faults,
// each in the cloud's own terms (which proxy, which service, which operation). Each cloud's
// harness (aws-harness.ts, gcp-harness.ts, azure-harness.ts) makes one.
import type { Function_ } from "faasade";

export type Work = Function_<(tag: string, ms?: number) => Promise<{ tag: string; attempt: number }>>;
export type Flaky = Function_<(tag: string) => { tag: string; attempt: number }>;
export type Count = Function_<(tag: string, n: number) => AsyncGenerator<number>>;
export type FaultCounts = Record<string, number>;

export interface FaultHarness {
  /** The cloud's names, as the rows print them: its queue ("SQS") and its object store ("S3"). */
  readonly names: { readonly queue: string; readonly store: string };
  readonly work: Work;
  readonly flaky: Flaky;
  readonly count: Count;
  /** Runs recorded so far, by tag: the attempt of each run. */
  runs(): Map<string, number[]>;
  /** Starts the function's instances, so that cold starts are not what a test times. */
  warm(): Promise<void>;
  /** `work` through a provider of its own whose maps go through the queue (`fanOutFrom: 1`). */
  queued(): Promise<{ work: Work; close(): Promise<void> }>;
  /** The throttling storm for `ms`: the cloud's throttling and "unavailable" answers, in turn. */
  throttle(ms: number): void;
  /** Counts the storm must have made: each pattern matches some refusal's key (`refused:sqs:SendMessageBatch`). */
  readonly stormRefuses: readonly RegExp[];
  /** The object store's 5xx ("unavailable", "internal") for `ms`, on the requests `ops` matches (all when absent). */
  storeErrors(ms: number, ops?: RegExp): void;
  /** The store's service in the counts (`refused:<service>:<op>`) and its operations that are the runtime's writes. */
  readonly store: { readonly service: string; readonly runtimeWrites: RegExp };
  /** The stand-in `stand`'s front stops listening for `ms`, open connections cut (`restart:<stand>` counted). */
  restart(stand: string, ms: number): Promise<void>;
  /** What every proxy did since the last call. */
  takeCounts(): FaultCounts;
  /** Turns every proxy's faults off. */
  clear(): void;
  readonly duplicates: DuplicateDelivery;
}

/** Messages delivered more than once, as the cloud's queue does (a proxy's sends, or the queue double's own). */
export interface DuplicateDelivery {
  /** For `ms`, every message is delivered `copies` more times, `delaySeconds` later; `asRedeliveries`: as the queue's redeliveries, where the cloud tells them apart. */
  start(o: { ms: number; copies: number; delaySeconds: number; asRedeliveries?: boolean }): void;
  /** Ends the window. */
  stop(): void;
  /** Resolves once `originals` deliveries and `copies` copies since `since` were delivered and answered. */
  delivered(o: { originals: number; copies: number }, since: number, ms: number): Promise<void>;
  /** What a row prints of the copies made since `since`. */
  counts(since: number): FaultCounts;
  /** How many copies `counts` shows. */
  copiesIn(counts: FaultCounts): number;
}
