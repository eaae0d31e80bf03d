/**
 * A call's `AbortSignal` for an AWS SDK client whose middleware is cached (`cacheMiddleware`).
 *
 * Without the cache the SDK builds a command's whole middleware chain on every `send`: ~95 µs of
 * the caller's CPU per Lambda invoke here, 16 % of a call (docs/performance.md, "Lambda invokes
 * with a cached middleware chain"). It caches a chain only for sends without options, and a
 * per-call `{ abortSignal }` is an option. So the signal rides on the command's input under a
 * symbol (the serializers read only the operation's members), a middleware next to the request
 * handler records it for the request it passes on, and the client's own request handler is given
 * it there, as `send(command, { abortSignal })` would: an abort still closes the call's connection.
 */
const CALL_SIGNAL = Symbol("faasade.callSignal");

/** The signal of each request on its way to the handler (requests are fresh objects per attempt). */
const signals = new WeakMap<object, AbortSignal>();

/** `input` carrying `signal` for `send` to a client made `abortable`. */
export function withCallSignal<T extends object>(input: T, signal: AbortSignal): T {
  (input as { [CALL_SIGNAL]?: AbortSignal })[CALL_SIGNAL] = signal;
  return input;
}

type Next = (args: { input: object; request: unknown }) => Promise<unknown>;
interface HandlerOptions {
  abortSignal?: AbortSignal;
}
interface Abortable {
  middlewareStack: {
    add(middleware: (next: Next) => Next, options: { step: "deserialize"; priority: "low"; name: string }): void;
  };
  config: { requestHandler: unknown };
}

/**
 * Lets `client`'s requests be aborted by the signal of their command's input (`withCallSignal`).
 * Added when the client is made, before its first request, so that its cached chains include it.
 */
export function abortable<T extends Abortable>(client: T): T {
  client.middlewareStack.add(
    (next) => (args) => {
      const signal = (args.input as { [CALL_SIGNAL]?: AbortSignal })[CALL_SIGNAL];
      if (signal !== undefined && typeof args.request === "object" && args.request !== null) signals.set(args.request, signal);
      return next(args);
    },
    // The innermost step, after retries and signing: what it passes on is what the handler gets.
    { step: "deserialize", priority: "low", name: "faasadeCallSignal" },
  );
  const handler = client.config.requestHandler as {
    handle(request: object, options?: HandlerOptions): Promise<unknown>;
  };
  const handle = handler.handle.bind(handler);
  handler.handle = (request, options) => {
    const signal = options?.abortSignal ?? signals.get(request);
    return handle(request, signal === undefined ? options : { ...options, abortSignal: signal });
  };
  return client;
}
