/** Lookups made once and kept once they succeed: a failure is not kept, so the next use tries again. */
import QuickLRU from "quick-lru";

/** `make`'s result, made on first use. */
export function untilFulfilled<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    if (made === undefined) {
      made = make();
      made.catch(() => {
        made = undefined;
      });
    }
    return made;
  };
}

/** One lookup per key at a time, the newest `maxSize` kept; `forget` drops one (after a change). */
export function rememberedBy<A, T>(keyOf: (arg: A) => string, lookup: (arg: A) => Promise<T>, maxSize = 1000) {
  const found = new QuickLRU<string, Promise<T>>({ maxSize });
  const get = (arg: A): Promise<T> => {
    const key = keyOf(arg);
    let hit = found.get(key);
    if (hit === undefined) {
      hit = lookup(arg);
      found.set(key, hit);
      hit.catch(() => found.delete(key));
    }
    return hit;
  };
  return Object.assign(get, { forget: (arg: A) => found.delete(keyOf(arg)) });
}

/** `make(key)` once per key, kept as long as the process lives (stores and queue clients, made without a request). */
export function keptBy<T>(make: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}

/** `make(fn)` once per function (by environment, app and name): names that hash what they shorten, made once. */
export function keptPerFunction<F extends { app: string; environment: string; name?: string }>(
  make: (fn: F) => string,
): (fn: F) => string {
  const made = new Map<string, string>();
  return (fn) => {
    const key = `${fn.environment}\0${fn.app}\0${fn.name ?? ""}`;
    let value = made.get(key);
    if (value === undefined) {
      value = make(fn);
      made.set(key, value);
    }
    return value;
  };
}

/** `load`'s result, shared by every use for `ms` from its start (a failure is not kept); `forget` drops it (after a change). */
export function freshFor<T>(ms: number, load: () => Promise<T>) {
  let kept: { value: Promise<T>; at: number } | undefined;
  const get = (): Promise<T> => {
    if (kept === undefined || performance.now() - kept.at > ms) {
      const value = load();
      kept = { value, at: performance.now() };
      value.catch(() => {
        if (kept?.value === value) kept = undefined;
      });
    }
    return kept.value;
  };
  return { get, forget: () => void (kept = undefined) };
}
