/**
 * Where faasade keeps things in an app's object store. Call ids are unique, so the calls of
 * every app can share a prefix; an app's manifest and settings are kept apart by app in a
 * shared store. And the names of queued messages (`sendKeys`).
 */
import { keptBy } from "./once.js";

export function keysIn(prefix: string) {
  const own = (r: { environment: string; app: string }) => (prefix === "" ? "" : `${prefix}${r.environment}/${r.app}/`);
  return {
    manifest: (r: { environment: string; app: string }) => `${own(r)}manifest.json`,
    settings: (r: { environment: string; app: string }, fn: string) => `${own(r)}settings/${fn}.json`,
    call: (callId: string) => `${prefix}calls/${callId}.json`,
    /** The records of the calls whose ids begin so (call-ids.ts: a function's, newest first). */
    callsBeginning: (idPrefix: string) => `${prefix}calls/${idPrefix}`,
    result: (callId: string) => `${prefix}results/${callId}.json`,
    /** Zero-padded, so that listing returns a generator's values in order. */
    chunk: (callId: string, n: number) => `${prefix}chunks/${callId}/${String(n).padStart(8, "0")}`,
    chunks: (callId: string) => `${prefix}chunks/${callId}/`,
    cancel: (callId: string) => `${prefix}cancel/${callId}`,
    payload: (id: string) => `${prefix}payloads/${id}`,
    /** Attempt `n` of a queued input was started by a delivery (attempt-lease.ts). */
    started: (callId: string, inputId: string, n: number) => `${prefix}started/${callId}/${inputId}.${n}`,
    /** Every attempt of the call that was started. */
    startedOf: (callId: string) => `${prefix}started/${callId}/`,
    /** Attempt `n` of a queued call ended and its retry was queued: a redelivery of attempt `n` is stale. */
    retried: (callId: string, n: number) => `${prefix}retried/${callId}/${n}`,
    /** An outcome of a map input that went through the queue, per attempt (the caller retries map inputs). */
    mapResult: (callId: string, inputId: string, attempt: number) => `${prefix}map-results/${callId}/${inputId}.${attempt}.json`,
    mapResults: (callId: string) => `${prefix}map-results/${callId}/`,
  } as const;
}
export type Keys = ReturnType<typeof keysIn>;

/** An app store's keys, made once per prefix: every poll of a call, every listed call asks for them. */
export const keysOf = keptBy(keysIn);

/**
 * The `dedupKey` of each send of a queued input: every send of one attempt has the same key, so
 * a resend is caught by name, and each attempt (a retry) its own; a long delay chained past the
 * queue's longest sends the same attempt again, so each hop is named apart.
 */
export const sendKeys = {
  attempt: (callId: string, attempt: number) => `${callId}/${attempt}`,
  mapInput: (callId: string, inputId: string, attempt: number) => `${callId}/${inputId}/${attempt}`,
  hop: (callId: string, inputId: string, attempt: number, sentAt: number) => `${callId}/${inputId}/${attempt}/hop-${sentAt}`,
};
