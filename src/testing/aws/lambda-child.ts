/**
 * One Lambda execution environment of the test host: a process that imports the app's module,
 * then the real runtime handlers, and runs the events its host sends, one at a time.
 */
import { Writable } from "node:stream";

interface Request {
  id: number;
  t: "invoke" | "stream" | "abort";
  event?: unknown;
}

const send = (m: unknown) => process.send?.(m);
process.on("disconnect", () => process.exit(0));

async function main(): Promise<void> {
  await import(process.env.FAASADE_LAMBDA_MODULE ?? "");
  const { handler, streamHandler } = await import("../../providers/aws/runtime.js");
  const context = { logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? `host-${process.pid}` };
  const streams = new Map<number, Writable>();
  process.on("message", (m: Request) => {
    if (m.t === "abort") {
      streams.get(m.id)?.destroy();
      return;
    }
    const fail = (err: unknown) => {
      const e = err as Error;
      send({ id: m.id, t: "error", errorType: e?.name ?? "Error", errorMessage: e?.message ?? String(err) });
    };
    if (m.t === "invoke") {
      handler(m.event, context).then((result) => send({ id: m.id, t: "done", result }), fail);
      return;
    }
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        send({ id: m.id, t: "chunk", data: chunk.toString("utf8") });
        done();
      },
    });
    streams.set(m.id, stream);
    streamHandler(m.event, stream, context)
      .then(() => send({ id: m.id, t: "done" }), fail)
      .finally(() => streams.delete(m.id));
  });
  send({ t: "ready" });
}

main().catch((err) => {
  send({ t: "init-error", errorType: (err as Error).name, errorMessage: (err as Error).message });
  process.exit(1);
});
