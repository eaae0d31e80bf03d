/** The queue primitive on SQS: one queue by its URL, sends as SendMessageBatch within SQS's limits. */
import type { Queue } from "../../cloud/primitives.js";
import { type Clients, awsCall, providerError } from "./clients.js";

let sdk: Promise<typeof import("@aws-sdk/client-sqs")> | undefined;
const Q = () => (sdk ??= import("@aws-sdk/client-sqs"));

/** SQS: 10 entries and 256 KiB of bodies per SendMessageBatch, delays up to 15 minutes. */
const LIMITS = { maxBatch: 10, maxBatchBytes: 256 * 1024 - 2048, maxMessageBytes: 200 * 1024, maxDelayMs: 900_000 } as const;

export function sqsQueue(clients: Clients, queueUrl: string): Queue {
  return {
    ...LIMITS,
    async sendBatch(messages) {
      const [sqs, { SendMessageBatchCommand }] = await Promise.all([clients.sqs(), Q()]);
      const answer = await awsCall(`SendMessageBatch ${queueUrl}`, () =>
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, n) => ({
              Id: String(n),
              MessageBody: m.body,
              ...(m.delayMs ? { DelaySeconds: Math.min(900, Math.ceil(m.delayMs / 1000)) } : {}),
            })),
          }),
        ),
      );
      const failed = new Map((answer.Failed ?? []).map((f) => [f.Id, f]));
      return messages.map((_, n) => {
        const f = failed.get(String(n));
        return f === undefined
          ? undefined
          : providerError("SendMessageBatch", Object.assign(new Error(f.Message ?? f.Code), { name: f.Code }));
      });
    },
  };
}
