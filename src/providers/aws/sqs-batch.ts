/**
 * SQS sends made at the same time share SendMessageBatch requests (10 entries each), per queue:
 * 10 000 spawns (or a map's inputs) cost about 1 000 requests instead of 10 000.
 */
import { type Clients, providerError } from "./clients.js";

/** SendMessageBatch takes at most 10 entries. */
const SQS_BATCH = 10;

export function sqsBatcher(clients: Clients): (queueUrl: string, body: string) => Promise<void> {
  const o = { clients };
  const batches = new Map<string, { body: string; done: (err?: unknown) => void }[]>();
  const send = (queueUrl: string, body: string) =>
    new Promise<void>((resolve, reject) => {
      let batch = batches.get(queueUrl);
      if (batch === undefined) {
        batch = [];
        batches.set(queueUrl, batch);
        setImmediate(() => void flush(queueUrl));
      }
      batch.push({ body, done: (err) => (err === undefined ? resolve() : reject(err)) });
    });
  const flush = async (queueUrl: string) => {
    const entries = batches.get(queueUrl) ?? [];
    batches.delete(queueUrl);
    let SendMessageBatchCommand: typeof import("@aws-sdk/client-sqs").SendMessageBatchCommand;
    let sqs: Awaited<ReturnType<Clients["sqs"]>>;
    try {
      ({ SendMessageBatchCommand } = await import("@aws-sdk/client-sqs"));
      sqs = await o.clients.sqs();
    } catch (err) {
      for (const e of entries) e.done(err); // every spawn waiting on this flush learns why
      return;
    }
    for (let i = 0; i < entries.length; i += SQS_BATCH) {
      const group = entries.slice(i, i + SQS_BATCH);
      try {
        const answer = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: group.map((e, n) => ({ Id: String(n), MessageBody: e.body })),
          }),
        );
        const failed = new Map((answer.Failed ?? []).map((f) => [f.Id, f]));
        group.forEach((e, n) => {
          const f = failed.get(String(n));
          e.done(
            f === undefined
              ? undefined
              : providerError("SendMessageBatch", Object.assign(new Error(f.Message ?? f.Code), { name: f.Code })),
          );
        });
      } catch (err) {
        for (const e of group) e.done(providerError("SendMessageBatch", err));
      }
    }
  };
  return send;
}
