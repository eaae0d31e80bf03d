/**
 * Payloads above a transport's inline limit travel through the app's object store: the sender
 * writes the bytes under `payloads/` and sends the key; the receiver reads them back. Both
 * sides go through here, so callers and functions never see the difference.
 */
import { ProviderError } from "../core/errors.js";
import { keysIn } from "./keys.js";
import type { ObjectStore } from "./primitives.js";
import { type Envelope, type WireOutcome, fromBase64 } from "./wire.js";

/** The envelope to send: as is when small enough, else with its arguments in the store. */
export async function offloadArgs(store: ObjectStore, envelope: Envelope, limit: number): Promise<Envelope> {
  // The arguments are nearly all of an envelope: skip measuring the rest when they are far below.
  if (envelope.args.length + 4096 <= limit || Buffer.byteLength(JSON.stringify(envelope)) <= limit) return envelope;
  const key = keysIn(envelope.store?.prefix ?? "").payload(`${envelope.inputId}-${envelope.attempt}-args`);
  await store.put(key, envelope.args);
  return { ...envelope, args: "", argsAt: key };
}

/** The codec bytes of an envelope's arguments, from the store if they wait there. */
export async function argsOf(store: ObjectStore | undefined, envelope: Pick<Envelope, "args" | "argsAt">): Promise<Uint8Array> {
  if (envelope.argsAt === undefined) return fromBase64(envelope.args);
  return fromBase64(Buffer.from(await need(store, envelope.argsAt)).toString("utf8"));
}

/** An answer to send: as is when small enough, else with its value or error in the store. */
export async function offloadOutcome(
  store: ObjectStore | undefined,
  w: WireOutcome,
  limit: number,
  keyPrefix = "",
): Promise<WireOutcome> {
  if (store === undefined || Buffer.byteLength(JSON.stringify(w)) <= limit) return w;
  const key = keysIn(keyPrefix).payload(`${w.inputId}-${w.attempt}-outcome`);
  await store.put(key, JSON.stringify({ value: w.value, error: w.error }));
  return { ...w, value: undefined, error: undefined, valueAt: key };
}

/** An answer with its value or error back in place. */
export async function loadOutcome(store: ObjectStore | undefined, w: WireOutcome): Promise<WireOutcome> {
  if (w.valueAt === undefined) return w;
  const { value, error } = JSON.parse(Buffer.from(await need(store, w.valueAt)).toString("utf8")) as {
    value?: string;
    error?: string;
  };
  return { ...w, value, error, valueAt: undefined };
}

/** A payload that is not in the store: no delivery again can find it, so the input fails instead. */
export class PayloadMissingError extends ProviderError {}

async function need(store: ObjectStore | undefined, key: string): Promise<Uint8Array> {
  const bytes = await store?.get(key);
  if (bytes === undefined) throw new PayloadMissingError(`the payload ${key} is missing from the app's object store`);
  return bytes;
}
