/** What the CLI prints for values: JSON arguments in, JSON results and yielded values out. */
import { InvalidError, describe } from "../core/errors.js";
import type { Io } from "./command.js";
import { toJson } from "./json.js";

/** One JSON value per argument; a bad one is refused before anything is sent. */
export const parseJsonArgs = (raw: readonly string[]): unknown[] =>
  raw.map((text, i) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new InvalidError(`argument ${i + 1} is not valid JSON: ${describe(text)}`);
    }
  });

/** A result: one line with --json, indented otherwise. */
export function printResult(io: Io, value: unknown): void {
  io.out(toJson(value, io.json ? 0 : 2));
}

/** A generator's values, each as one JSON line as soon as it arrives. */
export async function printYielded(io: Io, values: AsyncIterable<unknown>): Promise<void> {
  for await (const value of values) io.out(toJson(value));
}
