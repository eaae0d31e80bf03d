/**
 * The instance pool of a serverless test host (a test double), shared by the Cloud Functions and Azure
 * Functions stand-ins: each instance is a process of its own, forked from an entry that tells its port
 * (and what else it reports) in its first IPC message. A request takes an instance with a free slot (a
 * warm one first), else a new one while fewer than `maxInstances` run, else waits for one; `min`
 * instances are kept running; idle ones above the minimum are reaped. A crash, an out-of-memory or
 * `process.exit` ends only that instance: it leaves the pool and the next request gets a new one.
 */
import { type ChildProcess, fork } from "node:child_process";
import { Agent } from "node:http";

/** What an instance's entry sends first: its port, and anything else the host wants to know. */
export interface ReadyMessage {
  port: number;
  [key: string]: unknown;
}

export class PooledInstance {
  readonly child: ChildProcess;
  /** The instance's first message, once it listens. */
  readonly hello: Promise<ReadyMessage>;
  readonly port: Promise<number>;
  readonly agent = new Agent({ keepAlive: true });
  inFlight = 0;
  dead = false;
  ready = false;
  lastUsed = Date.now();

  constructor(entry: URL, env: Record<string, string>, execArgv: string[], logs: "inherit" | "ignore" = "inherit") {
    this.child = fork(entry, [], { env, execArgv, stdio: ["ignore", logs, logs, "ipc"] });
    this.hello = new Promise<ReadyMessage>((resolve, reject) => {
      this.child.once("message", (m: ReadyMessage) => {
        this.ready = true;
        if (typeof m?.port === "number") resolve(m);
      });
      this.child.once("exit", (code, signal) =>
        reject(new Error(`the instance exited while starting (${signal ?? `code ${code}`})`)),
      );
    });
    this.port = this.hello.then((m) => m.port);
    this.hello.catch(() => {});
    this.port.catch(() => {});
    this.child.once("exit", () => {
      this.dead = true;
      this.agent.destroy();
    });
  }

  kill(): void {
    this.dead = true;
    this.child.kill("SIGKILL");
  }

  /** Resolves once the process has exited. */
  exited(): Promise<void> {
    return new Promise<void>((r) =>
      this.child.exitCode !== null || this.child.signalCode !== null ? r() : this.child.once("exit", () => r()),
    );
  }
}

export interface PoolOptions {
  entry: URL;
  /** The environment of a new instance. */
  env(): Record<string, string>;
  execArgv: string[];
  /** Where an instance's output goes. @default "inherit" */
  logs?: "inherit" | "ignore" | undefined;
  /** @default 10 */
  maxInstances?: number | undefined;
  /** Instances kept running while idle. @default 0 */
  min?: number | undefined;
  /** Told of every instance started. */
  onSpawn?(instance: PooledInstance): void;
}

export class InstancePool {
  readonly instances = new Set<PooledInstance>();
  min: number;
  closing = false;
  private waiting: (() => void)[] = [];

  constructor(private readonly options: PoolOptions) {
    this.min = options.min ?? 0;
  }

  spawn(): PooledInstance {
    const instance = new PooledInstance(this.options.entry, this.options.env(), this.options.execArgv, this.options.logs);
    this.instances.add(instance);
    instance.child.once("exit", () => {
      this.instances.delete(instance);
      this.wake();
      if (!this.closing) this.keepMin();
    });
    this.options.onSpawn?.(instance);
    return instance;
  }

  live(): PooledInstance[] {
    return [...this.instances].filter((i) => !i.dead);
  }

  keepMin(): void {
    for (let n = this.live().length; n < this.min; n++) this.spawn();
  }

  setMin(n: number): void {
    this.min = n;
    this.keepMin();
  }

  private wake(): void {
    for (const w of this.waiting.splice(0)) w();
  }

  /** An instance with fewer than `slots` inputs in flight (a warm one first), a new one, or the wait for one; undefined past `pendingMs`. */
  async acquire(slots: number, pendingMs: number): Promise<PooledInstance | undefined> {
    const deadline = Date.now() + pendingMs;
    for (;;) {
      const running = this.live();
      const free = running.filter((i) => i.inFlight < slots).sort((a, b) => Number(b.ready) - Number(a.ready));
      const chosen = free[0] ?? (running.length < (this.options.maxInstances ?? 10) ? this.spawn() : undefined);
      if (chosen !== undefined) {
        chosen.inFlight++;
        return chosen;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closing) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  release(i: PooledInstance): void {
    i.inFlight--;
    i.lastUsed = Date.now();
    this.wake();
  }

  /** Ends idle instances above the minimum that have been idle longer than `idleMs`. */
  reap(idleMs: number): void {
    let keep = this.min;
    for (const i of this.live()) {
      if (i.inFlight > 0) continue;
      if (keep > 0) keep--;
      else if (Date.now() - i.lastUsed > idleMs) i.kill();
    }
  }

  pids(): number[] {
    return this.live().flatMap((i) => (i.child.pid === undefined ? [] : [i.child.pid]));
  }

  killAll(): void {
    for (const i of this.instances) i.kill();
  }

  /** Ends every instance and resolves once all have exited. */
  async close(): Promise<void> {
    this.closing = true;
    const exits = [...this.instances].map((i) => i.exited());
    this.killAll();
    this.wake();
    await Promise.all(exits);
  }
}
