/**
 * Calls are refused while a container imports the module that defines its function: that
 * module's top-level code runs in every container, so a call there would start another
 * container, whose import would start another (a fork bomb). The refusal is one error per
 * container; the runtime reports it as the container's init failure, so the launching program's
 * call fails fast with a `RemoteError` whose cause says where calls belong.
 */
import { InvalidError } from "./errors.js";

let importing: string | undefined;
let refusal: InvalidError | undefined;

/**
 * Imports the app's module through `load` with calls refused meanwhile. Rejects with the
 * refusal when top-level code made a call, even one whose promise it never awaited.
 */
export async function importAppModule<T>(module: string, load: () => Promise<T>): Promise<T> {
  importing = module;
  ignoreRefusalRejections();
  try {
    const loaded = await load();
    if (refusal !== undefined) throw refusal;
    return loaded;
  } finally {
    importing = undefined;
  }
}

/** Throws `InvalidError` while a container imports its app's module. */
export function refuseWhileImporting(fnName: string): void {
  if (importing === undefined) return;
  refusal ??= new InvalidError(
    `function ${JSON.stringify(fnName)} was called while a container imported ${importing}: calls made by a module's top-level code would run again in every container; move them into app.localEntrypoint(...) or into another module`,
  );
  throw refusal;
}

let listening = false;

/** A refused call whose promise nobody awaited must not crash the container before it reports why. */
function ignoreRefusalRejections(): void {
  if (listening) return;
  listening = true;
  process.on("unhandledRejection", (reason) => {
    if (reason === refusal) return;
    // Alone, this listener would hide every other unhandled rejection: keep Node's default (a crash).
    if (process.listenerCount("unhandledRejection") === 1) throw reason;
  });
}
