/** Error classes that a decoded error may take back, by name. Anything else becomes an `Error`. */
import * as errors from "./errors.js";

type ErrorCtor = new (message?: string) => Error;

const BY_NAME = new Map<string, ErrorCtor>([
  ["Error", Error],
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
  ["AggregateError", AggregateError as unknown as ErrorCtor],
]);
for (const value of Object.values(errors)) {
  if (typeof value === "function" && value.prototype instanceof Error) BY_NAME.set(value.name, value as ErrorCtor);
}

export function errorConstructor(name: string): ErrorCtor {
  return BY_NAME.get(name) ?? Error;
}
