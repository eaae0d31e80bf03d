import { randomHex } from "./random.js";

/**
 * Ids made on every call and map input: `<tag>-<random prefix of this process>-<counter>`, not a
 * UUID each (whose random bytes cost ~0.5 µs of a lone `remote`). The prefix keeps ids apart across
 * processes; it is drawn at the first id, so a process that makes none never loads node:crypto.
 */
function idsOf(tag: string, randomBytes: number): () => string {
  let prefix: string | undefined;
  let counter = 0;
  return () => (prefix ??= `${tag}-${randomHex(randomBytes)}-`) + (counter++).toString(36);
}

/** Function call ids: 64 random bits per process, since calls are kept and looked up by id. */
export const newCallId = idsOf("fc", 8);
export const newInputId = idsOf("in", 6);

/** Container (task) ids. */
export const newTaskId = (): string => `ta-${randomHex(6)}`;
