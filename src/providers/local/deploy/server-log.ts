/**
 * Reading FAASADE_HOME/server.log line by line (`faasade logs`), and following it as it grows
 * (`--follow`), as `tail -F` does: a log that is truncated, removed, or replaced by a new file
 * (rotated) is followed into its new life, and what was written to the old file before it was
 * replaced is read to its end first.
 */
import { createReadStream } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { StringDecoder } from "node:string_decoder";

/** Calls `line` for each line of `file` (without its line break); resolves false when there is no such file. */
export async function readLog(file: string, line: (text: string) => void): Promise<boolean> {
  const stream = createReadStream(file, { encoding: "utf8" });
  const opened = await new Promise<boolean>((resolve, reject) => {
    stream.once("open", () => resolve(true));
    stream.once("error", (err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? resolve(false) : reject(err)));
  });
  if (!opened) return false;
  for await (const text of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) line(text);
  return true;
}

export interface Following {
  /** Stops following; resolves once the file is closed. */
  stop(): Promise<void>;
}

const CHUNK = 64 * 1024;

/**
 * Calls `line` for each line of `file`, from its start, then for each new line as it is written,
 * checking every `intervalMs`. A missing file is waited for.
 */
export function followLog(file: string, line: (text: string) => void, { intervalMs = 200 } = {}): Following {
  let handle: FileHandle | undefined;
  let ino = -1;
  let offset = 0;
  let decoder = new StringDecoder("utf8");
  let partial = "";
  let stopped = false;

  const emit = (text: string) => {
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) line(l.endsWith("\r") ? l.slice(0, -1) : l);
  };
  /** The end of a file's life (replaced, removed, truncated): its last line, even without a line break. */
  const endOfFile = () => {
    emit(decoder.end());
    if (partial !== "") line(partial);
    partial = "";
    decoder = new StringDecoder("utf8");
  };
  const drain = async (from: FileHandle) => {
    const buffer = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await from.read(buffer, 0, CHUNK, offset);
      if (bytesRead === 0) return;
      offset += bytesRead;
      emit(decoder.write(buffer.subarray(0, bytesRead)));
    }
  };
  const reopen = async () => {
    await handle?.close();
    handle = undefined;
    try {
      handle = await open(file, "r");
      ino = (await handle.stat()).ino;
    } catch {
      ino = -1; // not there (yet): the next tick looks again
    }
    offset = 0;
  };
  const tick = async () => {
    if (handle !== undefined) await drain(handle); // what the current file holds, even if it was renamed away meanwhile
    const now = await stat(file).catch(() => undefined);
    if (now === undefined && handle === undefined) return;
    if (now === undefined || now.ino !== ino || now.size < offset) {
      // Drained once more: what was written to the old file between the first drain and the stat.
      if (handle !== undefined && now?.ino !== ino) await drain(handle);
      if (handle !== undefined) endOfFile();
      await reopen();
      if (handle !== undefined) await drain(handle);
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    running = tick()
      .catch((err: Error) => {
        process.stderr.write(`faasade: reading ${file}: ${err.message}\n`);
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };
  loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await handle?.close();
    },
  };
}
