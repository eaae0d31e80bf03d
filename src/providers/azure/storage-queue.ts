/**
 * The queue primitive on one Storage Queue: each message one Put Message, its body base64 (what the Functions
 * host's queue trigger decodes by default), kept until it is read (a time-to-live of -1: Azure's default of
 * 7 days would drop a message waiting on a busy queue). A message is named by what its send returned, its id
 * and pop receipt: that receipt (`receiptOf`) is what deletes it while it is still queued (`deleteMessage`).
 */
import QuickLRU from "quick-lru";
import { sendEach } from "../../cloud/batching.js";
import type { Queue, QueueMessage } from "../../cloud/primitives.js";
import { NotFoundError } from "../../core/errors.js";
import { type AzureClients, azureCall, codeOf } from "./clients.js";

/**
 * No batch call: `maxBatch` only bounds the sends one flush has in flight. A message is at most 64 KiB as
 * sent, and base64 makes 3 bytes 4: 48 KiB of body, less a margin for the XML around it.
 */
const LIMITS = { maxBatch: 32, maxBatchBytes: 32 * 48 * 1024, maxMessageBytes: 47 * 1024, maxDelayMs: 7 * 86_400_000 } as const;
/** Receipts remembered in this process, newest first: a cancel made elsewhere reads the call's record instead. */
const RECEIPTS = 10_000;

/** A queued message's receipt: its id and pop receipt, as one string (kept in call records). */
export const receiptText = (messageId: string, popReceipt: string) => JSON.stringify([messageId, popReceipt]);

export function storageQueue(clients: AzureClients, name: string): Queue {
  const receipts = new QuickLRU<string, string>({ maxSize: RECEIPTS });
  const send = async (m: QueueMessage) => {
    const queue = (await clients.queues()).getQueueClient(name);
    const delaySeconds = Math.ceil(Math.min(Math.max(0, m.delayMs ?? 0), LIMITS.maxDelayMs) / 1000);
    const sent = await azureCall(`send a message to queue ${name}`, () =>
      queue.sendMessage(Buffer.from(m.body).toString("base64"), {
        messageTimeToLive: -1,
        ...(delaySeconds > 0 ? { visibilityTimeout: delaySeconds } : {}),
      }),
    );
    if (m.dedupKey !== undefined) receipts.set(m.dedupKey, receiptText(sent.messageId, sent.popReceipt));
  };
  return { ...LIMITS, sendBatch: sendEach(send), receiptOf: (dedupKey) => receipts.get(dedupKey) };
}

/** Deletes a message still queued by its receipt; false when it was not there (received since, done, or gone). */
export async function deleteQueued(clients: AzureClients, name: string, receipt: string): Promise<boolean> {
  const [messageId, popReceipt] = JSON.parse(receipt) as [string, string];
  const queue = (await clients.queues()).getQueueClient(name);
  try {
    await azureCall(`delete message ${messageId} of queue ${name}`, () => queue.deleteMessage(messageId, popReceipt));
    return true;
  } catch (err) {
    // Received since it was sent (its pop receipt changed), or gone: it is no longer queued.
    if (err instanceof NotFoundError || codeOf((err as Error).cause) === "PopReceiptMismatch") return false;
    throw err;
  }
}

/** The most messages one peek shows. */
const PEEK_MAX = 32;

/**
 * Messages waiting and being processed. Azure's count includes received messages (invisible until
 * deleted) and may be higher than the real one; a peek shows the visible ones, up to 32. So below 32
 * waiting, the waiting ones are exact and the rest of the count is taken as being processed (delayed
 * retries among them); from 32 on, the count is all waiting (docs/azure.md).
 */
export async function queueCounts(clients: AzureClients, name: string): Promise<{ queued: number; processing: number }> {
  const queue = (await clients.queues()).getQueueClient(name);
  const [props, peeked] = await Promise.all([
    azureCall(`get the properties of queue ${name}`, () => queue.getProperties()),
    azureCall(`peek the messages of queue ${name}`, () => queue.peekMessages({ numberOfMessages: PEEK_MAX })),
  ]);
  const total = props.approximateMessagesCount ?? 0;
  const visible = peeked.peekedMessageItems.length;
  if (visible >= PEEK_MAX) return { queued: Math.max(total, visible), processing: 0 };
  return { queued: visible, processing: Math.max(0, total - visible) };
}
