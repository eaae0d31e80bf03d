/**
 * An SQS-to-Lambda poller for tests (a test double of Lambda's event source mapping): it
 * receives messages from a queue, hands each to the function as an SQS event (deploy sets the
 * mappings' batch size to 1), deletes those the handler did not report in `batchItemFailures`,
 * and leaves the rest (or all, on a function error) to come back after their visibility timeout.
 * It never has more invocations running than the function's reserved concurrency allows.
 */
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import { type LambdaHost, Throttled } from "./lambda-host.js";

export interface PollerTarget {
  queueUrl: string;
  functionName: string;
  /** Seconds a received message stays invisible: the function's timeout and a margin. */
  visibilitySeconds: number;
}

/** Messages per invocation, as deploy configures the event source mappings. */
const BATCH = 1;

export function startSqsPoller(sqs: SQSClient, host: LambdaHost, targets: PollerTarget[]): { stop(): Promise<void> } {
  let stopped = false;
  const loops = targets.map((t) => loop(t));

  async function loop(t: PollerTarget): Promise<void> {
    const { ReceiveMessageCommand, DeleteMessageBatchCommand } = await import("@aws-sdk/client-sqs");
    const running = new Set<Promise<void>>();

    const invoke = (messages: Message[]) => {
      const batch = (async () => {
        const event = {
          Records: messages.map((m) => ({
            messageId: m.MessageId,
            receiptHandle: m.ReceiptHandle,
            body: m.Body,
            eventSource: "aws:sqs",
          })),
        };
        let failed = new Set<string>(messages.map((m) => m.MessageId as string));
        for (;;) {
          try {
            const answer = await host.invoke(t.functionName, event);
            if (answer.ok) {
              const report = parseReport(answer.payload);
              failed = new Set((report?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
            }
            break;
          } catch (err) {
            if (!(err instanceof Throttled) || stopped) break;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        const done = messages.filter((m) => !failed.has(m.MessageId as string));
        if (done.length > 0 && !stopped) {
          await sqs
            .send(
              new DeleteMessageBatchCommand({
                QueueUrl: t.queueUrl,
                Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
              }),
            )
            .catch(() => {});
        }
      })();
      running.add(batch);
      void batch.finally(() => running.delete(batch));
    };

    while (!stopped) {
      // Receive only what can run now (an invocation takes its environment as it starts).
      const free = host.free(t.functionName);
      if (free <= 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      let messages: Message[] = [];
      try {
        const got = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: t.queueUrl,
            MaxNumberOfMessages: Math.min(10, free * BATCH),
            WaitTimeSeconds: 1,
            VisibilityTimeout: t.visibilitySeconds,
          }),
        );
        messages = got.Messages ?? [];
      } catch {
        if (stopped) break;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (stopped) break;
      for (let i = 0; i < messages.length; i += BATCH) invoke(messages.slice(i, i + BATCH));
    }
    await Promise.all(running);
  }

  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** The handler's answer to a batch: which messages failed (ReportBatchItemFailures). */
function parseReport(payload: Buffer): { batchItemFailures?: { itemIdentifier: string }[] } | undefined {
  try {
    return JSON.parse(payload.toString("utf8") || "null") as { batchItemFailures?: { itemIdentifier: string }[] } | undefined;
  } catch {
    return undefined;
  }
}
