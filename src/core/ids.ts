import { randomHex } from "./random.js";

// Ids are made on every call: a per-process random prefix and a counter, not a UUID each (whose
// random bytes cost ~0.5 µs of a lone `remote`). 64 random bits keep call ids apart across processes.
let callPrefix: string | undefined;
let calls = 0;
/** Function call ids: `fc-`, this process's prefix and a counter, unique across processes. */
export const newCallId = (): string => (callPrefix ??= `fc-${randomHex(8)}-`) + (calls++).toString(36);

// Input ids the same way (one per map input).
let prefix: string | undefined;
let counter = 0;
export const newInputId = (): string => (prefix ??= `in-${randomHex(6)}-`) + (counter++).toString(36);

/** Container (task) ids. */
export const newTaskId = (): string => `ta-${randomHex(6)}`;
