/**
 * FunctionCall.cancel: a queued call never runs, a running call sees currentInput().signal
 * abort, and with terminateContainers a call stuck in sync code loses its container.
 */
import { App, InputCancelledError, currentInput } from "faasade";

export const app = new App("example-cancel");
export const report = app.function(
  async function report(id: string, ms: number) {
    const signal = currentInput()?.signal;
    try {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
      return `${id} finished`;
    } catch {
      console.log(`  [container] ${id} saw its signal abort and stopped early`);
      return `${id} stopped`;
    }
  },
  { maxContainers: 1 },
);
export const crunch = app.function(
  function crunch(ms: number) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      // sync code: it cannot look at a signal, only a stopped container ends it
    }
    return ms;
  },
  { maxContainers: 1 },
);

const outcome = (p: Promise<unknown>) =>
  p.then(
    (v) => `result ${JSON.stringify(v)}`,
    (e: unknown) => (e instanceof InputCancelledError ? "InputCancelledError" : String(e)),
  );

app.localEntrypoint(async () => {
  const running = await report.spawn("long", 60_000);
  const queued = await report.spawn("queued", 10);
  await new Promise((r) => setTimeout(r, 500)); // "long" is running, "queued" waits behind it

  await queued.cancel();
  console.log("queued call:", await outcome(queued.get()));
  await running.cancel();
  console.log("running call:", await outcome(running.get()));

  const stuck = await crunch.spawn(60_000);
  await new Promise((r) => setTimeout(r, 500));
  const started = Date.now();
  await stuck.cancel({ terminateContainers: true });
  console.log("busy call:", await outcome(stuck.get()), `(${Date.now() - started} ms)`);
  console.log("crunch works afterwards:", await crunch.remote(5));
});
