/**
 * The invoker primitive on Lambda: Invoke and InvokeWithResponseStream of the function's `live`
 * alias; throttling retried with jittered backoff; Lambda's own errors (timeouts, crashes, out
 * of memory) turned into the platform failures the cloud layer understands.
 */
import type { Invoker, PlatformFailure } from "../../cloud/primitives.js";
import type { FunctionSpec } from "../../core/provider.js";
import { withCallSignal } from "./call-signal.js";
import { type Clients, awsCall } from "./clients.js";
import { rideThrough } from "../../core/transport.js";
import { ALIAS } from "./names.js";

/** A synchronous invoke's request and answer are capped at 6 MB: stay well inside. */
export const INVOKE_INLINE_BYTES = 5 * 1024 * 1024;
let sdk: Promise<typeof import("@aws-sdk/client-lambda")> | undefined;
const L = () => (sdk ??= import("@aws-sdk/client-lambda"));

/** Lambda's own error (the function did not answer): a timeout, or a lost execution environment. */
export function functionError(name: string, payload: Uint8Array | undefined): PlatformFailure {
  let detail: { errorType?: string; errorMessage?: string } = {};
  try {
    detail = JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString("utf8"));
  } catch {
    // not JSON: keep the generic message
  }
  const message = detail.errorMessage ?? "the Lambda function failed without a message";
  if (detail.errorType === "Sandbox.Timedout" || /Task timed out/.test(message)) {
    return { status: "TIMEOUT", message: `function ${JSON.stringify(name)} timed out in Lambda: ${message}` };
  }
  if (detail.errorType === "Runtime.OutOfMemory" || /out of memory|heap/i.test(message)) {
    return { status: "FAILURE", message: "container ran out of memory (Lambda execution environment)" };
  }
  const exit = /exit status (\d+)/.exec(message);
  return {
    status: "FAILURE",
    message: exit
      ? `container exited with code ${exit[1]} (Lambda execution environment)`
      : `Lambda ${detail.errorType ?? "error"}: ${message}`,
  };
}

/**
 * Throttling, Lambda's 5xx and broken connections (a `TransportError` from `awsCall`): the invoke
 * is sent again (the same input, at least once) by the core's ride-through; every other refusal is final.
 */
const withThrottleRetries = <T>(op: string, signal: AbortSignal, run: () => Promise<T>) =>
  rideThrough(() => awsCall(op, run), { signal });

export function lambdaInvoker(clients: Clients, lambdaName: (fn: FunctionSpec) => string): Invoker {
  const request = (fn: FunctionSpec, body: string) => ({
    FunctionName: lambdaName(fn),
    Qualifier: ALIAS,
    Payload: Buffer.from(body),
  });
  return {
    callLimit: INVOKE_INLINE_BYTES,
    async call(fn, body, signal) {
      const [lambda, { InvokeCommand }] = await Promise.all([clients.lambda(), L()]);
      const input = request(fn, body);
      const answer = await withThrottleRetries("Invoke", signal, () =>
        lambda.send(new InvokeCommand(withCallSignal(input, signal))),
      );
      if (answer.FunctionError !== undefined) return { failure: functionError(fn.name, answer.Payload) };
      return { text: Buffer.from(answer.Payload ?? new Uint8Array()).toString("utf8") };
    },
    async stream(fn, body, signal, onLine) {
      const [lambda, { InvokeWithResponseStreamCommand }] = await Promise.all([clients.lambda(), L()]);
      const input = request(fn, body);
      const answer = await withThrottleRetries("InvokeWithResponseStream", signal, () =>
        lambda.send(new InvokeWithResponseStreamCommand(withCallSignal(input, signal))),
      );
      let pending = "";
      for await (const event of answer.EventStream ?? []) {
        if (event.PayloadChunk?.Payload !== undefined) {
          pending += Buffer.from(event.PayloadChunk.Payload).toString("utf8");
          const lines = pending.split("\n");
          pending = lines.pop() ?? "";
          for (const l of lines) onLine(l);
        }
        if (event.InvokeComplete !== undefined) {
          onLine(pending);
          pending = "";
          const { ErrorCode, ErrorDetails } = event.InvokeComplete;
          if (ErrorCode !== undefined) {
            return functionError(fn.name, Buffer.from(JSON.stringify({ errorType: ErrorCode, errorMessage: ErrorDetails })));
          }
        }
      }
      return undefined;
    },
  };
}
