/**
 * The Functions host's storage-queue trigger, as a test double dispatching from azurite: each listener
 * receives up to `batchSize` messages at once (a new batch once no more than `newBatchThreshold` of its
 * own run), and listeners are added on a backlog up to `listeners`, as Azure adds instances. Each message
 * is held invisible for `leaseMs`, renewed while its function runs so that a long input is not delivered
 * again meanwhile; it is decoded from base64 (the trigger's default encoding) and run. Success deletes
 * the message; a failure (the function threw, its instance crashed, or the message is no base64) makes it
 * visible again after `visibilityTimeoutMs`, unless it has been dequeued `maxDequeueCount` times: then it
 * moves to `<queue>-poison`. Polling an empty queue backs off, doubling up to `maxPollingIntervalMs`. Every
 * request it makes is counted, so that benchmarks report the host's own requests apart from faasade's.
 */
import type { DequeuedMessageItem, QueueClient } from "@azure/storage-queue";
import type { QueueFacts } from "./invocations.js";

/** host.json `extensions.queues`, and the lease the host holds a running message with. */
export interface QueueSettings {
  /** Messages received at once (1–32). @default 16 */
  batchSize?: number | undefined;
  /** A new batch is received once no more than this many run. @default batchSize / 2 */
  newBatchThreshold?: number | undefined;
  /** Deliveries before a failing message moves to the poison queue. @default 5 */
  maxDequeueCount?: number | undefined;
  /** How long a failed message stays invisible before it is delivered again. @default 0 */
  visibilityTimeoutMs?: number | undefined;
  /** The longest wait between polls of an empty queue (Azure's default: 1 min). @default 1000 */
  maxPollingIntervalMs?: number | undefined;
  /** How long a received message stays invisible, renewed at half of it while it runs (Azure: 10 min). @default 10 000 */
  leaseMs?: number | undefined;
  /**
   * The most listeners polling at once: Azure runs one per instance and adds instances while messages wait,
   * so up to `listeners × (batchSize + newBatchThreshold)` messages run. A test host's default keeps to one.
   * @default 1
   */
  listeners?: number | undefined;
}

/** Messages one instance runs at once: its listener's batch and the next one it receives early. */
export const slotsPerInstance = (s: QueueSettings = {}) => {
  const batchSize = Math.min(32, Math.max(1, s.batchSize ?? 16));
  return batchSize + (s.newBatchThreshold ?? Math.floor(batchSize / 2));
};

/** The host's own storage requests. */
export interface DispatchCounts {
  receive: number;
  delete: number;
  update: number;
  /** Messages sent to a poison queue (and its creation). */
  poison: number;
}

export const newCounts = (): DispatchCounts => ({ receive: 0, delete: 0, update: 0, poison: 0 });

export interface Dispatcher {
  /** Messages running now. */
  inFlight(): number;
  /** Stops polling and renewing; resolves once the messages running have been settled. */
  stop(): Promise<void>;
}

export interface DispatchOptions {
  queue: QueueClient;
  poison: QueueClient;
  settings?: QueueSettings | undefined;
  counts: DispatchCounts;
  /** Runs one decoded message on an instance: true when its function returned. */
  run(text: string, facts: QueueFacts): Promise<boolean>;
}

const MIN_POLL_MS = 50;
const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The message's text, or undefined when it is no base64 (the host fails such a message, and poisons it in the end). */
export function decodedText(messageText: string): string | undefined {
  const compact = messageText.replace(/\s+/g, "");
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  return Buffer.from(compact, "base64").toString("utf8");
}

/** One instance's listener: the messages it received and runs, and how to wake it when one ends. */
interface Listener {
  running: Set<Promise<void>>;
  wake?: (() => void) | undefined;
}

const sleepOf = (l: Listener) => (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    l.wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });

export function dispatchQueue(options: DispatchOptions): Dispatcher {
  const s = options.settings ?? {};
  const batchSize = Math.min(32, Math.max(1, s.batchSize ?? 16));
  const threshold = s.newBatchThreshold ?? Math.floor(batchSize / 2);
  const maxDequeue = s.maxDequeueCount ?? 5;
  const leaseMs = s.leaseMs ?? 10_000;
  const maxListeners = Math.max(1, s.listeners ?? 1);
  const { queue, poison, counts } = options;
  const listeners = new Set<Listener>();
  const loops = new Set<Promise<void>>();
  const running = new Set<Promise<void>>();
  let stopped = false;
  let poisonReady: Promise<unknown> | undefined;

  const toPoison = async (m: DequeuedMessageItem, receipt: string) => {
    if (poisonReady === undefined) {
      counts.poison++;
      poisonReady = poison.createIfNotExists().catch((err: unknown) => {
        poisonReady = undefined;
        throw err;
      });
    }
    await poisonReady;
    counts.poison++;
    await poison.sendMessage(m.messageText, { messageTimeToLive: -1 });
    counts.delete++;
    await queue.deleteMessage(m.messageId, receipt);
  };

  const settle = async (m: DequeuedMessageItem) => {
    let receipt = m.popReceipt;
    let renewing: Promise<void> = Promise.resolve();
    const renew = setInterval(() => {
      renewing = renewing.then(async () => {
        counts.update++;
        const r = await queue.updateMessage(m.messageId, receipt, undefined, seconds(leaseMs)).catch(() => undefined);
        if (r?.popReceipt !== undefined) receipt = r.popReceipt;
      });
    }, leaseMs / 2);
    let ok = false;
    try {
      const text = decodedText(m.messageText);
      const facts: QueueFacts = {
        id: m.messageId,
        dequeueCount: m.dequeueCount,
        popReceipt: m.popReceipt,
        insertionTime: m.insertedOn.toISOString(),
        expirationTime: m.expiresOn.toISOString(),
        nextVisibleTime: m.nextVisibleOn.toISOString(),
      };
      ok = text !== undefined && (await options.run(text, facts).catch(() => false));
    } finally {
      clearInterval(renew);
      await renewing;
    }
    if (ok) {
      counts.delete++;
      await queue.deleteMessage(m.messageId, receipt);
    } else if (m.dequeueCount >= maxDequeue) await toPoison(m, receipt);
    else {
      counts.update++;
      await queue.updateMessage(m.messageId, receipt, undefined, seconds(s.visibilityTimeoutMs ?? 0));
    }
  };

  const start = (l: Listener, m: DequeuedMessageItem) => {
    // A message dequeued more often than allowed (its deliveries were lost with crashed hosts) runs no more.
    const done = (m.dequeueCount > maxDequeue ? toPoison(m, m.popReceipt) : settle(m))
      .catch(() => {}) // a lost settle leaves the message to reappear when its lease ends, as a crashed host's would
      .finally(() => {
        l.running.delete(done);
        running.delete(done);
        l.wake?.();
      });
    l.running.add(done);
    running.add(done);
  };

  /** Listeners that may receive now: no more of their messages run than the threshold. */
  const polling = () => [...listeners].filter((l) => l.running.size <= threshold).length;

  /**
   * One listener's loop. As Azure's scale controller adds an instance while messages wait, a listener that
   * has filled its slots starts another one when none is left to poll; an added listener whose poll finds
   * the queue empty, while another polls, goes away again. The first listener stays.
   */
  const listen = async (l: Listener, first: boolean) => {
    const sleep = sleepOf(l);
    let poll = MIN_POLL_MS;
    while (!stopped) {
      if (l.running.size > threshold) {
        await sleep(1000);
        continue;
      }
      let got: DequeuedMessageItem[] = [];
      try {
        counts.receive++;
        const r = await queue.receiveMessages({ numberOfMessages: batchSize, visibilityTimeout: seconds(leaseMs) });
        got = r.receivedMessageItems;
      } catch {
        // azurite gone or not ready: try again later
      }
      if (stopped) break;
      if (got.length === 0) {
        if (!first && polling() > 1) break;
        await sleep(poll);
        poll = Math.min(poll * 2, s.maxPollingIntervalMs ?? 1000);
        continue;
      }
      poll = MIN_POLL_MS;
      for (const m of got) start(l, m);
      if (polling() === 0 && listeners.size < maxListeners) addListener(false);
    }
    listeners.delete(l);
  };

  const addListener = (first: boolean) => {
    const l: Listener = { running: new Set() };
    listeners.add(l);
    const loop = listen(l, first).finally(() => loops.delete(loop));
    loops.add(loop);
  };
  addListener(true);

  return {
    inFlight: () => running.size,
    async stop() {
      stopped = true;
      for (const l of listeners) l.wake?.();
      await Promise.all([...loops]);
      await Promise.all([...running]);
    },
  };
}
