/**
 * Lambda invokes for `remote`, map inputs and `remoteGen`: the envelope in, the outcome out;
 * throttling retried with jittered backoff; Lambda's function errors (timeouts, crashes) turned
 * into outcomes the core understands.
 */
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { applyGraphEvents } from "../../core/call-graph.js";
import type { Input, Outcome } from "../../core/provider.js";
import { type Clients, providerError } from "./clients.js";
import { type Envelope, type WireOutcome, fromWire } from "./envelope.js";
import { loadOutcome } from "./payloads.js";
import { ALIAS } from "./names.js";

interface InvokeAnswer extends WireOutcome {
  graph?: Parameters<typeof applyGraphEvents>[0];
}

const THROTTLE_LIMIT_MS = 60_000;
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

/** Lambda's own error (the function did not answer): a timeout, or a lost execution environment. */
function functionError(input: Input, name: string, payload: Uint8Array | undefined): Outcome {
  let detail: { errorType?: string; errorMessage?: string } = {};
  try {
    detail = JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString("utf8"));
  } catch {
    // not JSON: keep the generic message
  }
  const base = { inputId: input.inputId, attempt: input.attempt };
  const message = detail.errorMessage ?? "the Lambda function failed without a message";
  if (detail.errorType === "Sandbox.Timedout" || /Task timed out/.test(message)) {
    return { ...base, status: "TIMEOUT", message: `function ${JSON.stringify(name)} timed out in Lambda: ${message}` };
  }
  const exit = /exit status (\d+)/.exec(message);
  if (detail.errorType === "Runtime.OutOfMemory" || /out of memory|heap/i.test(message)) {
    return { ...base, status: "FAILURE", message: "container ran out of memory (Lambda execution environment)" };
  }
  return {
    ...base,
    status: "FAILURE",
    message: exit
      ? `container exited with code ${exit[1]} (Lambda execution environment)`
      : `Lambda ${detail.errorType ?? "error"}: ${message}`,
  };
}

async function withThrottleRetries<T>(op: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const name = (err as { name?: string }).name;
      const throttled = name === "TooManyRequestsException" || name === "ThrottlingException";
      if (!throttled || signal.aborted || Date.now() - started > THROTTLE_LIMIT_MS) throw providerError(op, err);
      // Full jitter, capped: many callers throttled together spread out instead of retrying in step.
      await sleep(Math.random() * Math.min(2000, 25 * 2 ** attempt), signal);
    }
  }
}

/** The Lambda SDK module, imported once (not per invoke). */
let lambdaSdk: Promise<typeof import("@aws-sdk/client-lambda")> | undefined;
const sdkModule = () => (lambdaSdk ??= import("@aws-sdk/client-lambda"));

/** What both kinds of invoke send: the function's alias, the envelope as payload (made once, whatever the retries). */
const invokeInput = (functionName: string, envelope: Envelope) => ({
  FunctionName: functionName,
  Qualifier: ALIAS,
  Payload: Buffer.from(JSON.stringify(envelope)),
});

/** One synchronous invoke of the function's alias. */
export async function invokeOnce(
  sdk: Clients,
  lambda: LambdaClient,
  functionName: string,
  name: string,
  input: Input,
  envelope: Envelope,
  signal: AbortSignal,
): Promise<Outcome> {
  const { InvokeCommand } = await sdkModule();
  const request = invokeInput(functionName, envelope);
  const answer = await withThrottleRetries("Invoke", signal, () =>
    lambda.send(new InvokeCommand(request), { abortSignal: signal }),
  );
  if (answer.FunctionError !== undefined) return functionError(input, name, answer.Payload);
  const wire = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString("utf8")) as InvokeAnswer;
  if (wire.graph !== undefined) applyGraphEvents(wire.graph);
  return fromWire(await loadOutcome(sdk, wire));
}

/** A streamed invoke (generators): each value as it is yielded, then the outcome. */
export async function invokeStream(
  lambda: LambdaClient,
  functionName: string,
  name: string,
  input: Input,
  envelope: Envelope,
  signal: AbortSignal,
  onChunk: (value: Uint8Array) => void,
): Promise<Outcome> {
  const { InvokeWithResponseStreamCommand } = await sdkModule();
  const request = invokeInput(functionName, envelope);
  const answer = await withThrottleRetries("InvokeWithResponseStream", signal, () =>
    lambda.send(new InvokeWithResponseStreamCommand(request), { abortSignal: signal }),
  );
  let pending = "";
  let outcome: Outcome | undefined;
  const line = (text: string) => {
    if (text === "") return;
    const msg = JSON.parse(text) as { c?: string; o?: InvokeAnswer };
    if (msg.c !== undefined) onChunk(new Uint8Array(Buffer.from(msg.c, "base64")));
    if (msg.o !== undefined) {
      if (msg.o.graph !== undefined) applyGraphEvents(msg.o.graph);
      outcome = fromWire(msg.o);
    }
  };
  for await (const event of answer.EventStream ?? []) {
    if (event.PayloadChunk?.Payload !== undefined) {
      pending += Buffer.from(event.PayloadChunk.Payload).toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) line(l);
    }
    if (event.InvokeComplete !== undefined) {
      line(pending);
      pending = "";
      if (event.InvokeComplete.ErrorCode !== undefined && outcome === undefined) {
        return functionError(
          input,
          name,
          Buffer.from(
            JSON.stringify({ errorType: event.InvokeComplete.ErrorCode, errorMessage: event.InvokeComplete.ErrorDetails }),
          ),
        );
      }
    }
  }
  return (
    outcome ?? {
      inputId: input.inputId,
      attempt: input.attempt,
      status: "FAILURE",
      message: "the Lambda stream ended without an outcome",
    }
  );
}
