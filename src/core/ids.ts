import { randomBytes, randomUUID } from "node:crypto";

/** Function call ids: `fc-` and a UUID, unique across processes. */
export const newCallId = (): string => `fc-${randomUUID()}`;

// Input ids are hot (one per map input): a per-process random prefix and a counter.
const prefix = `in-${randomBytes(6).toString("hex")}-`;
let counter = 0;
export const newInputId = (): string => prefix + (counter++).toString(36);

/** Container (task) ids. */
export const newTaskId = (): string => `ta-${randomBytes(6).toString("hex")}`;
