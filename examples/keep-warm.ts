/**
 * keepWarm and updateAutoscaler: watch the pool's stats while it warms up, serves a burst and
 * scales back down. Containers are OS processes here; on a cloud the same calls map onto that
 * cloud's warm capacity (docs/autoscaler.md).
 */
import { App } from "faasade";

export const app = new App("example-keep-warm");
export const resize = app.function(
  async function resize(size: number, ms = 100) {
    await new Promise((r) => setTimeout(r, ms)); // stands in for real work
    return size * 2;
  },
  { maxContainers: 3, scaledownWindowMs: 1000 },
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const show = async (moment: string) => {
  const { backlog, numTotalRunners, numRunningInputs } = await resize.getCurrentStats();
  console.log(`${moment.padEnd(34)} containers ${numTotalRunners}  running ${numRunningInputs}  backlog ${backlog}`);
};

app.localEntrypoint(async () => {
  await show("before anything");
  console.log("keepWarm(2) →", await resize.keepWarm(2));
  await sleep(500);
  await show("warm, no input yet");

  const burst = Promise.all(Array.from({ length: 12 }, (_, i) => resize.remote(i)));
  await sleep(50);
  await show("during a burst of 12");
  await burst;
  await show("after the burst");

  await sleep(1500);
  await show("past the scaledown window");

  await resize.keepWarm(0);
  await sleep(1500);
  await show("keepWarm(0), past the window");

  const settings = await resize.updateAutoscaler({ bufferContainers: 1 });
  console.log("updateAutoscaler({ bufferContainers: 1 }) →", settings);
  const call = await resize.spawn(21, 1500);
  await sleep(800);
  await show("one busy and one buffer container");
  console.log("result:", await call.get());
});
