/**
 * A fault-injecting proxy for the offline AWS backend (a test double, for reliability tests
 * only: not part of `startTestBackend`'s options). It sits on 127.0.0.1 in front of a stand-in
 * (fauxqs for SQS and S3, the Lambda test host) and forwards every request unchanged, except
 * while a fault is on: then it answers AWS's own error documents (throttling, unavailable),
 * resets connections (before or after the request reached the stand-in), sends SQS messages
 * twice, or stops listening for a while, as a restarted stand-in would (its state is kept).
 *
 * Two fronts per proxy: `url`, for the app's clients and runtimes (every fault applies), and
 * `platformUrl`, for what plays AWS's own machinery (the SQS event source poller), which
 * account-level throttling does not touch but a restart of the service does.
 */
import { randomUUID } from "node:crypto";
import { Agent, type IncomingMessage, type Server, type ServerResponse, createServer, request } from "node:http";
import type { Socket } from "node:net";

export type Service = "sqs" | "s3" | "lambda";

/** A refusal: AWS's throttling answer for the service, its "unavailable" (503), or its internal error (500). */
export type RefusalKind = "throttle" | "unavailable" | "internal";

interface Window {
  services: readonly Service[];
  /** Only requests whose operation matches (e.g. /Invoke|SendMessage/); every operation when absent. */
  ops?: RegExp | undefined;
  until: number;
  /** The share of matching requests hit (1: all). */
  ratio: number;
}

interface Refusal extends Window {
  kinds: readonly RefusalKind[];
  next: number;
}

interface Reset extends Window {
  /** After the stand-in has the request (its answer is lost), or before (it never arrives). */
  after: boolean;
}

interface Duplication extends Window {
  /** Extra copies of each sent SQS message, delivered after `delaySeconds`. */
  copies: number;
  delaySeconds: number;
}

/** What the faults did, by fault and operation (`refused:sqs:SendMessageBatch`, ...). */
export type FaultCounts = Record<string, number>;

export interface FaultProxy {
  /** Where the app's clients and runtimes send their requests. */
  readonly url: string;
  /** Where AWS's own machinery (the event source poller) sends them: only restarts reach it. */
  readonly platformUrl: string;
  /** Answers matching requests with AWS errors of `kinds` (taken in turn) for `ms`. */
  refuse(o: { services: readonly Service[]; ms: number; kinds?: readonly RefusalKind[]; ops?: RegExp; ratio?: number }): void;
  /** Drops matching connections for `ms`; `after`: once the stand-in has the request, so its answer is lost. */
  reset(o: { services: readonly Service[]; ms: number; after?: boolean; ops?: RegExp; ratio?: number }): void;
  /** Every SQS SendMessage(Batch) for `ms` is also sent `copies` more times, `delaySeconds` later (at-least-once delivery). */
  duplicateSends(o: { ms: number; copies?: number; delaySeconds?: number; ratio?: number }): void;
  /** Stops listening and cuts open connections (a restart): refused for `ms`, then back, its stand-in's state intact. */
  restart(ms: number): Promise<void>;
  /** Turns every fault off. */
  clear(): void;
  /** What the faults did since the last call. */
  takeCounts(): FaultCounts;
  close(): Promise<void>;
}

/** Starts a proxy in front of `upstream` (http://127.0.0.1:port). */
export async function startFaultProxy(upstream: string, kind: "storage" | "lambda"): Promise<FaultProxy> {
  const target = new URL(upstream);
  const refusals: Refusal[] = [];
  const resets: Reset[] = [];
  const duplications: Duplication[] = [];
  let counts: FaultCounts = {};
  const count = (what: string) => {
    counts[what] = (counts[what] ?? 0) + 1;
  };

  const active = <T extends Window>(list: T[], service: Service, op: string): T | undefined => {
    const now = Date.now();
    for (let i = list.length - 1; i >= 0; i--) if ((list[i] as T).until <= now) list.splice(i, 1);
    return list.find((w) => w.services.includes(service) && (w.ops?.test(op) ?? true) && Math.random() < w.ratio);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, faulty: boolean) => {
    const { service, op } = classify(req, kind);
    if (faulty) {
      const refusal = active(refusals, service, op);
      if (refusal !== undefined) {
        const k = refusal.kinds[refusal.next++ % refusal.kinds.length] as RefusalKind;
        count(`refused:${service}:${op}`);
        req.resume();
        req.on("end", () => writeRefusal(res, service, k, req.method === "HEAD"));
        return;
      }
      const reset = active(resets, service, op);
      if (reset !== undefined && !reset.after) {
        count(`reset-before:${service}:${op}`);
        req.socket.destroy();
        return;
      }
      if (reset !== undefined) count(`reset-after:${service}:${op}`);
      const dup = service === "sqs" && /^SendMessage/.test(op) ? active(duplications, service, op) : undefined;
      if (dup !== undefined || reset !== undefined) {
        return void buffered(req).then((body) => {
          if (dup !== undefined) {
            count(`duplicated:${service}:${op}`);
            const copy = delayed(body, dup.delaySeconds);
            for (let i = 0; i < dup.copies; i++) forwardBody(req, copy, undefined);
          }
          forwardBody(req, body, reset === undefined ? res : undefined, () => req.socket.destroy());
        });
      }
    }
    forward(req, res);
  };

  /** Streams the request to the stand-in and its answer back (Lambda's streamed answers stay streamed). */
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

  // A connection of its own per request to the stand-in: a reused one that the stand-in closed
  // meanwhile would reset the client's request, a fault nobody asked for.
  const agent = new Agent({ keepAlive: false });
  /** The stand-in sees itself as the host (fauxqs builds queue URLs from it). */
  const upstreamHeaders = (req: IncomingMessage) => ({ ...req.headers, host: target.host });

  const fronts = [await listen((req, res) => handle(req, res, true)), await listen((req, res) => handle(req, res, false))];
  const [app, platform] = fronts as [Front, Front];

  return {
    url: `http://127.0.0.1:${app.port}`,
    platformUrl: `http://127.0.0.1:${platform.port}`,
    refuse: (o) =>
      refusals.push({
        services: o.services,
        ops: o.ops,
        until: Date.now() + o.ms,
        ratio: o.ratio ?? 1,
        kinds: o.kinds ?? ["throttle"],
        next: 0,
      }),
    reset: (o) =>
      resets.push({ services: o.services, ops: o.ops, until: Date.now() + o.ms, ratio: o.ratio ?? 1, after: o.after ?? false }),
    duplicateSends: (o) =>
      duplications.push({
        services: ["sqs"],
        until: Date.now() + o.ms,
        ratio: o.ratio ?? 1,
        copies: o.copies ?? 1,
        delaySeconds: o.delaySeconds ?? 0,
      }),
    async restart(ms) {
      count(`restart:${kind}`);
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
    // As long as the stand-in keeps idle connections (fastify: 72 s): a proxy that closed them
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

/** Which service and operation a request is: SQS's JSON protocol names it in X-Amz-Target. */
function classify(req: IncomingMessage, kind: "storage" | "lambda"): { service: Service; op: string } {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (kind === "lambda") {
    if (path.endsWith("/response-streaming-invocations")) return { service: "lambda", op: "InvokeWithResponseStream" };
    if (path.endsWith("/invocations")) return { service: "lambda", op: "Invoke" };
    return { service: "lambda", op: `${req.method} ${path.split("/").slice(-1)[0] ?? ""}` };
  }
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return { service: "sqs", op: target.split(".").pop() ?? target };
  const area = path.split("/")[2] ?? "";
  return { service: "s3", op: `${req.method} ${area}` };
}

/** AWS's answer for a refused request, as each service writes it (status, error code, body shape). */
function writeRefusal(res: ServerResponse, service: Service, kind: RefusalKind, head: boolean): void {
  const requestId = randomUUID();
  if (service === "s3") {
    const [status, code, message] =
      kind === "throttle"
        ? [503, "SlowDown", "Please reduce your request rate."]
        : kind === "unavailable"
          ? [503, "ServiceUnavailable", "Service is unable to handle request."]
          : [500, "InternalError", "We encountered an internal error. Please try again."];
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId><HostId>faasade-faults</HostId></Error>`;
    res.writeHead(status, { "content-type": "application/xml", "x-amz-request-id": requestId });
    res.end(head ? undefined : body);
    return;
  }
  if (service === "sqs") {
    // The JSON protocol, query-compatible: the code travels in x-amzn-query-error as well.
    const [status, code, fault, message] =
      kind === "throttle"
        ? [400, "ThrottlingException", "Sender", "Rate exceeded"]
        : kind === "unavailable"
          ? [503, "ServiceUnavailable", "Receiver", "The request has failed due to a temporary failure of the server."]
          : [500, "InternalFailure", "Receiver", "The request processing has failed because of an unknown error."];
    res.writeHead(status, {
      "content-type": "application/x-amz-json-1.0",
      "x-amzn-requestid": requestId,
      "x-amzn-query-error": `${code};${fault}`,
    });
    res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message }));
    return;
  }
  const [status, code, type, message] =
    kind === "throttle"
      ? [429, "TooManyRequestsException", "User", "Rate Exceeded."]
      : [500, "ServiceException", "Service", "The Lambda service encountered an internal error."];
  res.writeHead(status, { "content-type": "application/json", "x-amzn-errortype": code, "x-amzn-requestid": requestId });
  res.end(
    JSON.stringify(
      kind === "throttle" ? { Reason: "ConcurrentInvocationLimitExceeded", Type: type, message } : { Type: type, message },
    ),
  );
}

function buffered(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** An SQS JSON send with every message delayed by `seconds` (a copy that arrives later). */
function delayed(body: Buffer, seconds: number): Buffer {
  if (seconds <= 0) return body;
  const request = JSON.parse(body.toString("utf8")) as { Entries?: { DelaySeconds?: number }[]; DelaySeconds?: number };
  if (request.Entries !== undefined) for (const e of request.Entries) e.DelaySeconds = Math.max(e.DelaySeconds ?? 0, seconds);
  else request.DelaySeconds = Math.max(request.DelaySeconds ?? 0, seconds);
  return Buffer.from(JSON.stringify(request));
}
