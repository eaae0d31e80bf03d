/** A decoded value as JSON for a page: what JSON cannot hold is described, and a large value is cut. */
import { describe } from "../core/errors.js";

const MAX_CHARS = 64 * 1024;

export function jsonValue(value: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, replace);
  } catch {
    return { unshown: describe(value) }; // a cycle, say
  }
  if (text === undefined) return null;
  if (text.length > MAX_CHARS) return { truncated: true, preview: text.slice(0, MAX_CHARS) };
  return JSON.parse(text);
}

function replace(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return { bytes: value.byteLength };
  if (value instanceof ArrayBuffer) return { bytes: value.byteLength };
  if (value instanceof Map) return { map: [...value.entries()] };
  if (value instanceof Set) return { set: [...value] };
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value === undefined) return null;
  return value;
}
