/** map: lazy, bounded, zipped, in order or as completed, with kwargs and early exit. */
import { App } from "faasade";

export const app = new App("example-map");
export const scale = app.function(function scale(x: number, factor: number, opts?: { offset: number }) {
  return x * factor + (opts?.offset ?? 0);
});

app.localEntrypoint(async () => {
  const out: number[] = [];
  for await (const r of scale.map([1, 2, 3], [10, 20, 30], { kwargs: { offset: 1 } })) out.push(r);
  console.log("zipped with kwargs:", out);

  function* endless() {
    for (let i = 0; ; i++) yield i;
  }
  let n = 0;
  for await (const r of scale.map(endless(), endless(), { orderOutputs: false })) {
    if (++n === 10_000) {
      console.log("left an endless map after", n, "results; last", r);
      break; // stops reading and cancels what is still queued
    }
  }
  for await (const r of scale.starmap([
    [2, 3],
    [4, 5],
  ]))
    console.log("starmap:", r);
});
