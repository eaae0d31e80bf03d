/**
 * The fault-injecting proxy (../fault-proxy.ts) for the offline AWS backend (a test double, for
 * reliability tests only: not part of `startTestBackend`'s options), in front of a stand-in
 * (fauxqs for SQS and S3, the Lambda test host): AWS's own error documents (throttling,
 * unavailable), and SQS messages sent twice (at-least-once delivery, at once or later).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ProxyFaults, type RefusalKind, startProxy } from "../fault-proxy.js";

export type { FaultCounts, RefusalKind } from "../fault-proxy.js";

export type Service = "sqs" | "s3" | "lambda";

export interface FaultProxy extends Omit<ProxyFaults<Service>, "duplicate"> {
  /** Every SQS SendMessage(Batch) for `ms` is also sent `copies` more times, `delaySeconds` later (at-least-once delivery). */
  duplicateSends(o: { ms: number; copies?: number; delaySeconds?: number; ratio?: number }): void;
}

/** Starts a proxy in front of `upstream` (http://127.0.0.1:port). */
export async function startFaultProxy(upstream: string, kind: "storage" | "lambda"): Promise<FaultProxy> {
  const { duplicate, ...proxy } = await startProxy<Service>(upstream, kind, {
    classify: (req) => classify(req, kind),
    writeRefusal: (res, service, refusal, head) => writeRefusal(res, service, refusal, head),
    delayed,
  });
  return { ...proxy, duplicateSends: (o) => duplicate({ ...o, services: ["sqs"], ops: /^SendMessage/ }) };
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

/** An SQS JSON send with every message delayed by `seconds` (a copy that arrives later). */
function delayed(body: Buffer, seconds: number): Buffer {
  if (seconds <= 0) return body;
  const request = JSON.parse(body.toString("utf8")) as { Entries?: { DelaySeconds?: number }[]; DelaySeconds?: number };
  if (request.Entries !== undefined) for (const e of request.Entries) e.DelaySeconds = Math.max(e.DelaySeconds ?? 0, seconds);
  else request.DelaySeconds = Math.max(request.DelaySeconds ?? 0, seconds);
  return Buffer.from(JSON.stringify(request));
}
