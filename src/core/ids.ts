import { randomHex, randomUUID } from "./random.js";

/** Function call ids: `fc-` and a UUID, unique across processes. */
export const newCallId = (): string => `fc-${randomUUID()}`;

// Input ids are hot (one per map input): a per-process random prefix and a counter.
let prefix: string | undefined;
let counter = 0;
export const newInputId = (): string => (prefix ??= `in-${randomHex(6)}-`) + (counter++).toString(36);

/** Container (task) ids. */
export const newTaskId = (): string => `ta-${randomHex(6)}`;
