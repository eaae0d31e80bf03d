/** Generator functions stream with remoteGen; a spawned one is read with getGen. */
import { App } from "faasade";

export const app = new App("example-generators");
export const countdown = app.function(async function* countdown(from: number) {
  for (let i = from; i > 0; i--) {
    await new Promise((r) => setTimeout(r, 20));
    yield i;
  }
});

app.localEntrypoint(async () => {
  for await (const n of countdown.remoteGen(3)) console.log("remoteGen:", n);
  const call = await countdown.spawn(2);
  for await (const n of call.getGen()) console.log("getGen:", n);
});
