/**
 * The wire between the AWS client and the Lambda runtime: JSON (Lambda payloads and SQS bodies
 * are text), codec bytes in base64. An envelope names its function, so one handler serves every
 * function of an app.
 */
import type { Input, Outcome } from "../../core/provider.js";

export interface Envelope {
  v: 1;
  app: string;
  env: string;
  fn: string;
  inputId: string;
  callId: string;
  attempt: number;
  parent?: string | undefined;
  /** The app's bucket: where payloads too large to travel inline go. */
  bucket?: string | undefined;
  /** Where faasade's objects are in that bucket: "" (the app's own) or "faasade/" (a shared one). */
  keyPrefix?: string | undefined;
  /** Codec bytes of the argument list, base64; "" when they are too large and wait in S3 (`argsAt`). */
  args: string;
  /** Where arguments too large to travel inline wait (payloads.ts). */
  argsAt?: S3Ref | undefined;
  /** A spawned input (SQS): where its outcome goes, and where a retry is queued. */
  spawn?:
    | {
        bucket: string;
        queueUrl: string;
        retentionMs: number;
        /** An input of a map sent through SQS: its outcome goes to `map-results/`, and its caller retries it. */
        map?: boolean | undefined;
      }
    | undefined;
}

/** What S3 holds for a finished spawned call (`results/<callId>.json`). */
export interface StoredResult {
  outcome: WireOutcome;
  fn: string;
  isGenerator: boolean;
  finishedAt: number;
  expiresAt: number;
}

/** An object in S3 holding a payload too large for Lambda's or SQS's inline limits. */
export interface S3Ref {
  bucket: string;
  key: string;
}

export interface WireOutcome {
  v: 1;
  /** Where a value or error too large to answer inline waits (payloads.ts). */
  valueAt?: S3Ref | undefined;
  inputId: string;
  attempt: number;
  status: Outcome["status"];
  value?: string | undefined;
  error?: string | undefined;
  userError?: boolean | undefined;
  message?: string | undefined;
  taskId?: string | undefined;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const bytes = (text: string) => new Uint8Array(Buffer.from(text, "base64"));

export function toEnvelope(
  ref: { app: string; environment: string; name: string },
  input: Input,
  bucket?: string,
  keyPrefix = "",
): Envelope {
  return {
    v: 1,
    ...(bucket === undefined ? {} : { bucket }),
    ...(keyPrefix === "" ? {} : { keyPrefix }),
    app: ref.app,
    env: ref.environment,
    fn: ref.name,
    inputId: input.inputId,
    callId: input.callId,
    attempt: input.attempt,
    parent: input.parentInputId,
    args: b64(input.args),
  };
}

/** Codec bytes from base64 text. */
export function fromBase64(text: string): Uint8Array {
  return bytes(text);
}

export function toWire(outcome: Outcome): WireOutcome {
  return {
    v: 1,
    inputId: outcome.inputId,
    attempt: outcome.attempt,
    status: outcome.status,
    value: outcome.value && b64(outcome.value),
    error: outcome.error && b64(outcome.error),
    userError: outcome.userError,
    message: outcome.message,
    taskId: outcome.taskId,
  };
}

export function fromWire(w: WireOutcome): Outcome {
  return {
    inputId: w.inputId,
    attempt: w.attempt,
    status: w.status,
    value: w.value === undefined ? undefined : bytes(w.value),
    error: w.error === undefined ? undefined : bytes(w.error),
    userError: w.userError,
    message: w.message,
    taskId: w.taskId,
  };
}

export function isEnvelope(value: unknown): value is Envelope {
  const e = value as Partial<Envelope> | null;
  return e !== null && typeof e === "object" && e.v === 1 && typeof e.fn === "string" && typeof e.args === "string";
}
