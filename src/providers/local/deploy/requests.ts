/**
 * Checks of the control API's request bodies, before anything acts on them: a bad body is a
 * 400 whose message names the field and quotes what was sent. Options of a manifest's function
 * go through the same checks as at definition (`resolveOptions`).
 */
import { describe } from "../../../core/errors.js";
import type { AppManifest, FunctionManifest } from "../../../core/manifest.js";
import { NAME_PATTERN, resolveOptions } from "../../../core/options.js";
import { Retries } from "../../../core/retries.js";
import { HttpError } from "./wire.js";

/** As `new App` checks app names and environments (core/app.ts). */
const APP_NAME = /^[a-z][a-z0-9-]{0,39}$/;

const refuse = (where: string, what: string, got: unknown) => new HttpError(400, `${where}: ${what}, got ${describe(got)}`);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);

export function checkManifest(value: unknown): AppManifest {
  if (!isObject(value)) throw refuse("manifest", "expected an object { app, environment, functions }", value);
  const { app, environment, functions } = value;
  if (typeof app !== "string" || !APP_NAME.test(app)) throw refuse("manifest.app", `must match ${APP_NAME}`, app);
  if (typeof environment !== "string" || !APP_NAME.test(environment))
    throw refuse("manifest.environment", `must match ${APP_NAME}`, environment);
  if (!Array.isArray(functions)) throw refuse("manifest.functions", "expected an array", functions);
  const names = new Set<string>();
  functions.forEach((fn, i) => {
    const checked = checkFunction(fn, `manifest.functions[${i}]`);
    if (names.has(checked.name)) throw refuse(`manifest.functions[${i}].name`, "is a duplicate", checked.name);
    names.add(checked.name);
  });
  return value as unknown as AppManifest;
}

function checkFunction(fn: unknown, where: string): FunctionManifest {
  if (!isObject(fn)) throw refuse(where, "expected an object { name, module, isGenerator, options }", fn);
  const { name, module, isGenerator, options } = fn;
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) throw refuse(`${where}.name`, `must match ${NAME_PATTERN}`, name);
  if (typeof module !== "string" || module === "") throw refuse(`${where}.module`, "expected a module path or URL", module);
  if (typeof isGenerator !== "boolean") throw refuse(`${where}.isGenerator`, "expected a boolean", isGenerator);
  if (!isObject(options)) throw refuse(`${where}.options`, "expected an object", options);
  if (options.name !== name) throw refuse(`${where}.options.name`, `expected ${JSON.stringify(name)}`, options.name);
  try {
    if (!isObject(options.retries)) throw new TypeError(`retries: expected an object, got ${describe(options.retries)}`);
    const named = { [name]: () => {} }[name] as () => void;
    resolveOptions(named, { ...options, retries: new Retries(options.retries as never) }, isGenerator);
  } catch (err) {
    throw new HttpError(400, `${where}.options: ${(err as Error).message}`);
  }
  return fn as unknown as FunctionManifest;
}

export function checkAbort(value: unknown): { inputIds: string[]; terminateContainers: boolean } {
  if (!isObject(value)) throw refuse("abort", "expected an object { inputIds, terminateContainers? }", value);
  const { inputIds, terminateContainers } = value;
  if (!Array.isArray(inputIds)) throw refuse("abort.inputIds", "expected an array of input ids", inputIds);
  inputIds.forEach((id, i) => {
    if (typeof id !== "string") throw refuse(`abort.inputIds[${i}]`, "expected a string", id);
  });
  return { inputIds, terminateContainers: checkFlag(terminateContainers, "abort.terminateContainers") };
}

export function checkCancel(value: unknown): { terminateContainers: boolean } {
  if (!isObject(value)) throw refuse("cancel", "expected an object { terminateContainers? }", value);
  return { terminateContainers: checkFlag(value.terminateContainers, "cancel.terminateContainers") };
}

/** A body that must be an object (its fields are checked by the route). */
export function checkObject(value: unknown, where: string): Record<string, unknown> {
  if (!isObject(value)) throw refuse(where, "expected an object", value);
  return value;
}

function checkFlag(value: unknown, where: string): boolean {
  if (value !== undefined && typeof value !== "boolean") throw refuse(where, "expected a boolean", value);
  return value === true;
}
