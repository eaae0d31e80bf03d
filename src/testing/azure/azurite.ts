/**
 * Azurite, Azure Storage's own emulator (Blob and Queue), started for a test as a child process on
 * 127.0.0.1 with free ports, in memory, and ended with the test process. Its account is the well-known
 * development account (devstoreaccount1), addressed by a connection string naming those ports.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { type AddressInfo, connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";

export interface Azurite {
  /** The development account's connection string, with the Blob and Queue endpoints of this azurite. */
  readonly connectionString: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  readonly blobUrl: string;
  readonly queueUrl: string;
  readonly pid: number | undefined;
  close(): Promise<void>;
}

export interface AzuriteOptions {
  /** How long to wait for it to listen. @default 30 000 */
  startMs?: number | undefined;
  /** Its log on this process's stderr (else it is silent). @default false */
  verbose?: boolean | undefined;
}

export const DEV_ACCOUNT = "devstoreaccount1";
/** Azurite's documented development key (public; it opens nothing but a local emulator). */
export const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** A port nothing listens on now (a listen on port 0, closed). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function azuriteEntry(): string {
  try {
    return createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
  } catch (err) {
    throw new Error("faasade: the Azure test backend needs azurite: npm install --save-dev azurite@3.35.0", { cause: err });
  }
}

/** azurite-main.js beside this module (built); from TypeScript sources, azurite's entry itself, unpatched (slower, the same answers). */
function launcher(entry: string): { script: string; env: Record<string, string> } {
  const main = fileURLToPath(new URL("./azurite-main.js", import.meta.url));
  return existsSync(main) ? { script: main, env: { FAASADE_AZURITE_ENTRY: entry } } : { script: entry, env: {} };
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

async function waitListening(child: ChildProcess, ports: number[], startMs: number): Promise<void> {
  const deadline = Date.now() + startMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`faasade: azurite exited while starting (${child.signalCode ?? `code ${child.exitCode}`})`);
    const up = await Promise.all(ports.map(canConnect));
    if (up.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`faasade: azurite did not listen on ${ports.join(", ")} within ${startMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const { script, env } = launcher(azuriteEntry());
  const [blobPort, queuePort, tablePort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    script,
    "--silent",
    "--inMemoryPersistence",
    "--disableTelemetry",
    "--skipApiVersionCheck",
    ...["--blobHost", "127.0.0.1", "--blobPort", String(blobPort)],
    ...["--queueHost", "127.0.0.1", "--queuePort", String(queuePort)],
    ...["--tableHost", "127.0.0.1", "--tablePort", String(tablePort)],
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", options.verbose ? "inherit" : "ignore"],
  });
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  try {
    await waitListening(child, [blobPort, queuePort], options.startMs ?? 30_000);
  } catch (err) {
    kill();
    process.off("exit", kill);
    throw err;
  }
  const blobUrl = `http://127.0.0.1:${blobPort}/${DEV_ACCOUNT}`;
  const queueUrl = `http://127.0.0.1:${queuePort}/${DEV_ACCOUNT}`;
  const connectionString = [
    "DefaultEndpointsProtocol=http",
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_KEY}`,
    `BlobEndpoint=${blobUrl}`,
    `QueueEndpoint=${queueUrl}`,
    `TableEndpoint=http://127.0.0.1:${tablePort}/${DEV_ACCOUNT}`,
  ].join(";");
  return {
    connectionString,
    blobUrl,
    queueUrl,
    pid: child.pid,
    async close() {
      process.off("exit", kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      kill();
      await exited;
    },
  };
}
