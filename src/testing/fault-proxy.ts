/**
 * A fault-injecting proxy in front of a test double or stand-in (for reliability tests only:
 * not part of `startTestBackend`'s options), the mechanics every cloud shares. It sits on
 * 127.0.0.1 and forwards every request unchanged, except while a fault is on: then it answers
 * the cloud's own error documents (the `ProxyWire` of each provider writes them), resets
 * connections (before or after the request reached the upstream), sends requests more than
 * once, or stops listening for a while, as a restarted service would (its state is kept).
 *
 * Two fronts per proxy: `url`, for the app's clients and runtimes (every fault applies), and
 * `platformUrl`, for what plays the cloud's own machinery (AWS's event source poller), which
 * account-level throttling does not touch but a restart of the service does.
 */
import { Agent, type IncomingMessage, type Server, type ServerResponse, createServer, request } from "node:http";
import type { Socket } from "node:net";

/** A refusal: the cloud's throttling answer for the service, its "unavailable" (503), or its internal error (500). */
export type RefusalKind = "throttle" | "unavailable" | "internal";

/** What is particular to one cloud: which service and operation a request is, and how it refuses. */
export interface ProxyWire<S extends string> {
  classify(req: IncomingMessage): { service: S; op: string };
  /** Answers a refused request as the cloud does (status, error code, body shape); `head`: no body. */
  writeRefusal(res: ServerResponse, service: S, kind: RefusalKind, head: boolean, op: string): void;
  /** A copy of a request body, to be delivered `seconds` later (AWS: SQS's DelaySeconds). @default the body itself */
  delayed?(body: Buffer, seconds: number): Buffer;
  /** Copies are held for their delay and sent then, unchanged (a signed request, Azure's, cannot be rewritten). */
  holdsCopies?: boolean;
  /**
   * Upstream connections are kept this long when idle, below the upstream's own keep-alive (azurite's 5 s), so
   * that it never closes one the proxy is about to reuse. @default none kept: a connection per request
   */
  keepAliveMs?: number;
}

interface Window<S extends string> {
  services: readonly S[];
  /** Only requests whose operation matches (e.g. /Invoke|SendMessage/); every operation when absent. */
  ops?: RegExp | undefined;
  until: number;
  /** The share of matching requests hit (1: all). */
  ratio: number;
}

interface Refusal<S extends string> extends Window<S> {
  kinds: readonly RefusalKind[];
  next: number;
}

interface Reset<S extends string> extends Window<S> {
  /** After the upstream has the request (its answer is lost), or before (it never arrives). */
  after: boolean;
}

interface Duplication<S extends string> extends Window<S> {
  /** Extra copies of each matching request, their bodies made by `ProxyWire.delayed`. */
  copies: number;
  delaySeconds: number;
}

/** What the faults did, by fault and operation (`refused:sqs:SendMessageBatch`, ...). */
export type FaultCounts = Record<string, number>;

interface Match<S extends string> {
  services: readonly S[];
  ms: number;
  ops?: RegExp;
  ratio?: number;
}

export interface ProxyFaults<S extends string> {
  /** Where the app's clients and runtimes send their requests. */
  readonly url: string;
  /** Where the cloud's own machinery sends them: only restarts reach it. */
  readonly platformUrl: string;
  /** Answers matching requests with the cloud's errors of `kinds` (taken in turn) for `ms`. */
  refuse(o: Match<S> & { kinds?: readonly RefusalKind[] }): void;
  /** Drops matching connections for `ms`; `after`: once the upstream has the request, so its answer is lost. */
  reset(o: Match<S> & { after?: boolean }): void;
  /** Every matching request for `ms` is also sent `copies` more times (their answers dropped), `delaySeconds` later as the wire says. */
  duplicate(o: Match<S> & { copies?: number; delaySeconds?: number }): void;
  /** Stops listening and cuts open connections (a restart): refused for `ms`, then back, its upstream's state intact. */
  restart(ms: number): Promise<void>;
  /** Turns every fault off. */
  clear(): void;
  /** What the faults did since the last call. */
  takeCounts(): FaultCounts;
  /** Requests that reached `url` (the app's, not the platform's) since the last call, by `<service>:<op>`. */
  takeRequests(): FaultCounts;
  close(): Promise<void>;
}

/** Starts a proxy in front of `upstream` (http://127.0.0.1:port); `name` counts its restarts (`restart:<name>`). */
export async function startProxy<S extends string>(upstream: string, name: string, wire: ProxyWire<S>): Promise<ProxyFaults<S>> {
  const target = new URL(upstream);
  const refusals: Refusal<S>[] = [];
  const resets: Reset<S>[] = [];
  const duplications: Duplication<S>[] = [];
  let counts: FaultCounts = {};
  const count = (what: string) => {
    counts[what] = (counts[what] ?? 0) + 1;
  };
  let requests: FaultCounts = {};

  const active = <T extends Window<S>>(list: T[], service: S, op: string): T | undefined => {
    const now = Date.now();
    for (let i = list.length - 1; i >= 0; i--) if ((list[i] as T).until <= now) list.splice(i, 1);
    return list.find((w) => w.services.includes(service) && (w.ops?.test(op) ?? true) && Math.random() < w.ratio);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, faulty: boolean) => {
    const { service, op } = wire.classify(req);
    if (faulty) {
      requests[`${service}:${op}`] = (requests[`${service}:${op}`] ?? 0) + 1;
      const refusal = active(refusals, service, op);
      if (refusal !== undefined) {
        const k = refusal.kinds[refusal.next++ % refusal.kinds.length] as RefusalKind;
        count(`refused:${service}:${op}`);
        req.resume();
        req.on("end", () => wire.writeRefusal(res, service, k, req.method === "HEAD", op));
        return;
      }
      const reset = active(resets, service, op);
      if (reset !== undefined && !reset.after) {
        count(`reset-before:${service}:${op}`);
        req.socket.destroy();
        return;
      }
      if (reset !== undefined) count(`reset-after:${service}:${op}`);
      const dup = active(duplications, service, op);
      if (dup !== undefined || reset !== undefined) {
        return void buffered(req).then((body) => {
          if (dup !== undefined) {
            count(`duplicated:${service}:${op}`);
            const copy = wire.holdsCopies ? body : (wire.delayed?.(body, dup.delaySeconds) ?? body);
            const send = () => {
              for (let i = 0; i < dup.copies; i++) forwardBody(req, copy, undefined);
            };
            if (wire.holdsCopies && dup.delaySeconds > 0) setTimeout(send, dup.delaySeconds * 1000).unref();
            else send();
          }
          forwardBody(req, body, reset === undefined ? res : undefined, () => req.socket.destroy());
        });
      }
    }
    forward(req, res);
  };

  /** Streams the request upstream and its answer back (streamed answers stay streamed). */
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: upstreamHeaders(req), agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("error", () => res.destroy());
      },
    );
    out.on("error", () => res.destroy());
    res.on("close", () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  };

  /** Sends a buffered request on; its answer goes to `res`, or (none) is read and dropped, then `after`. */
  const forwardBody = (req: IncomingMessage, body: Buffer, res: ServerResponse | undefined, after?: () => void) => {
    const headers = { ...upstreamHeaders(req), "content-length": String(body.byteLength) };
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        if (res === undefined) {
          answer.resume();
          answer.on("end", () => after?.());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => (res === undefined ? after?.() : res.destroy()));
    out.end(body);
  };

  // A connection of its own per request upstream, unless the wire knows the upstream's keep-alive: a
  // reused one that the upstream closed meanwhile would reset the client's request, a fault nobody asked for.
  const agent =
    wire.keepAliveMs === undefined ? new Agent({ keepAlive: false }) : new Agent({ keepAlive: true, timeout: wire.keepAliveMs });
  /** The upstream sees itself as the host (fauxqs builds queue URLs from it). */
  const upstreamHeaders = (req: IncomingMessage) => ({ ...req.headers, host: target.host });

  const fronts = [await listen((req, res) => handle(req, res, true)), await listen((req, res) => handle(req, res, false))];
  const [app, platform] = fronts as [Front, Front];
  const window = (o: Match<S>) => ({ services: o.services, ops: o.ops, until: Date.now() + o.ms, ratio: o.ratio ?? 1 });

  return {
    url: `http://127.0.0.1:${app.port}`,
    platformUrl: `http://127.0.0.1:${platform.port}`,
    refuse: (o) => refusals.push({ ...window(o), kinds: o.kinds ?? ["throttle"], next: 0 }),
    reset: (o) => resets.push({ ...window(o), after: o.after ?? false }),
    duplicate: (o) => duplications.push({ ...window(o), copies: o.copies ?? 1, delaySeconds: o.delaySeconds ?? 0 }),
    async restart(ms) {
      count(`restart:${name}`);
      await Promise.all(fronts.map((f) => f.stop()));
      await new Promise((r) => setTimeout(r, ms));
      await Promise.all(fronts.map((f) => f.start()));
    },
    clear() {
      refusals.length = 0;
      resets.length = 0;
      duplications.length = 0;
    },
    takeCounts() {
      const taken = counts;
      counts = {};
      return taken;
    },
    takeRequests() {
      const taken = requests;
      requests = {};
      return taken;
    },
    async close() {
      await Promise.all(fronts.map((f) => f.stop()));
    },
  };
}

interface Front {
  port: number;
  /** Stops listening and cuts every open connection. */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
}

async function listen(onRequest: (req: IncomingMessage, res: ServerResponse) => void): Promise<Front> {
  let server: Server | undefined;
  let port = 0;
  const sockets = new Set<Socket>();
  const start = async () => {
    const s = createServer(onRequest);
    // As long as the upstream keeps idle connections (fastify: 72 s): a proxy that closed them
    // sooner would add resets of its own (Node's default is 5 s) to the faults it was told.
    s.keepAliveTimeout = 120_000;
    s.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    // The port is this proxy's: taken by someone else meanwhile, it is asked for again shortly.
    for (let tries = 0; ; tries++) {
      try {
        await new Promise<void>((resolve, reject) => {
          s.once("error", reject);
          s.listen(port, "127.0.0.1", () => {
            s.off("error", reject);
            resolve();
          });
        });
        break;
      } catch (err) {
        if (tries >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    port = (s.address() as { port: number }).port;
    server = s;
  };
  await start();
  return {
    port,
    start,
    async stop() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      const closed = new Promise<void>((r) => s.close(() => r()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function buffered(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
