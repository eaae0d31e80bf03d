/**
 * One HTTP request passed on to a pooled instance (instance-pool.ts) by a serverless test host, as a
 * platform's front passes it: the instance's answer piped back as it comes; past `timeoutMs` the caller
 * gets the platform's cut (the instance runs on); a broken connection is the instance's crash (a 500, or
 * a cut answer once it had begun) and the instance is not sent more; a refused connection (an instance
 * that has just exited) is routed once to another instance.
 */
import { type IncomingHttpHeaders, type ServerResponse, request } from "node:http";
import type { InstancePool, PooledInstance } from "./instance-pool.js";

export interface Forwarded {
  method: string;
  /** The path (and query) on the instance. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Read whole first: a request refused by an instance that has just exited goes to another one. */
  body: Buffer;
}

export interface ForwardOptions {
  timeoutMs: number;
  /**
   * Whether `timeoutMs` is a limit on idle time (an answer begun goes on while its bytes flow: Azure's load
   * balancer) rather than on the whole request (Cloud Run's request timeout). @default false
   */
  idle?: boolean | undefined;
  /** What the caller gets past `timeoutMs`. */
  timedOut: { status: number; text: string };
  /** Headers of the 500 that tells of a crash. */
  crashHeaders?: Record<string, string> | undefined;
  /** Inputs one instance takes at once, and how long to wait for one, when rerouting. */
  slots: number;
  pendingMs: number;
}

export function plainText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain", ...headers }).end(body);
}

/** Passes the request on to `i` (taken from `pool`); resolves once it has been sent or answered. */
export async function forwardTo(
  pool: InstancePool,
  i: PooledInstance,
  req: Forwarded,
  res: ServerResponse,
  options: ForwardOptions,
  rerouted = false,
): Promise<void> {
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  let given = false; // the host ended the request itself (caller gone, timeout): not the instance's fault
  const settle = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    pool.release(i);
  };
  const crashed = (detail: string) => {
    if (given || settled) return;
    i.kill(); // an instance whose connection broke is not sent more requests
    if (!res.headersSent) plainText(res, 500, `the instance crashed or exited: ${detail}`, options.crashHeaders);
    else res.destroy();
    settle();
  };
  let port: number;
  try {
    port = await i.port;
  } catch (err) {
    return crashed((err as Error).message);
  }
  const up = request({ host: "127.0.0.1", port, method: req.method, path: req.path, headers: req.headers, agent: i.agent });
  const timedOut = () => {
    given = true;
    if (!res.headersSent) plainText(res, options.timedOut.status, options.timedOut.text);
    else res.destroy();
    up.destroy();
    settle();
  };
  timer = setTimeout(timedOut, options.timeoutMs);
  const stillFlowing = () => {
    if (!options.idle || settled) return;
    clearTimeout(timer);
    timer = setTimeout(timedOut, options.timeoutMs);
  };
  res.on("close", () => {
    if (settled || res.writableFinished) return;
    given = true; // the caller left: the instance's connection closes too, as the platform's does
    up.destroy();
    settle();
  });
  up.on("error", (err) => {
    // Refused: the request never reached the instance (it has just exited). The platform routes around it.
    if ((err as NodeJS.ErrnoException).code === "ECONNREFUSED" && !given && !settled && !res.headersSent && !rerouted) {
      i.kill();
      settle();
      void pool
        .acquire(options.slots, options.pendingMs)
        .then((next) =>
          next === undefined
            ? plainText(res, 429, "Rate exceeded: no available instance")
            : forwardTo(pool, next, req, res, options, true),
        );
      return;
    }
    crashed((err as Error).message);
  });
  up.on("response", (answer) => {
    // An instance that closes its connection is ending (faasade's runtime says so as it exits):
    // nothing more is routed to it, as a platform routes nothing to an instance that is shutting down.
    if (answer.headers.connection === "close") i.dead = true;
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    stillFlowing();
    answer.on("data", stillFlowing);
    answer.pipe(res);
    answer.on("close", () => (answer.complete ? settle() : crashed("the answer was cut off")));
  });
  up.end(req.body);
}

export async function readAll(req: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
