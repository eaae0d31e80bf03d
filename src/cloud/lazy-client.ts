/**
 * A cloud SDK client made on first use, from an SDK that is an optional peer dependency: a
 * missing package is an `ExecutionError` with its install line, and a failure (a missing package,
 * a client that is not `ready`) is not kept, so the next use tries again.
 */
import { ExecutionError } from "../core/errors.js";
import { untilFulfilled } from "./once.js";

export function lazyClient<T>(
  provider: string,
  pkg: string,
  make: () => Promise<T>,
  ready: (client: T) => Promise<T> = async (client) => client,
): () => Promise<T> {
  const needs = (cause: unknown) => new ExecutionError(`the ${provider} provider needs ${pkg}: npm i ${pkg}`, { cause });
  return untilFulfilled(() =>
    make()
      .catch((cause: unknown) => Promise.reject(needs(cause)))
      .then(ready),
  );
}
