/** The faasade functions a user's file exports, as the CLI finds them. */
import { fileURLToPath } from "node:url";
import { InvalidError } from "../core/errors.js";
import { Function_ } from "../core/function.js";

const OWN_COPY = fileURLToPath(new URL("../../..", import.meta.url));

/**
 * The exported `Function_`s, in export order. A function made by another copy of faasade (a
 * global CLI run on a project with faasade of its own) is none of this CLI's: say which CLI to
 * run rather than "no function".
 */
export function functionsOf(file: string, exports: Record<string, unknown>): Function_[] {
  const values = Object.values(exports);
  const own = values.filter((v): v is Function_ => v instanceof Function_);
  if (own.length === 0 && values.some(isForeignFunction)) {
    throw new InvalidError(
      `${file} uses another copy of faasade than this CLI (${OWN_COPY}): run the project's own, as in npx faasade`,
    );
  }
  return own;
}

const isForeignFunction = (v: unknown): boolean =>
  typeof v === "object" && v !== null && !(v instanceof Function_) && v.constructor?.name === "Function_";
