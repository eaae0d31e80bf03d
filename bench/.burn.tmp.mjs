const mod = await import("./faasade-app.mjs");
const N = Number(process.argv[2]);
function* range(a, n) {
  for (let i = a; i < a + n; i++) yield i;
}
const run = async (from, n) => {
  let x = from;
  for await (const r of mod.burn.map(range(from, n))) {
    if (r !== x * x) throw new Error("bad");
    x++;
  }
};
await run(100000, 800);
const t0 = performance.now();
while (performance.now() - t0 < 1000) await run(100000, 400);
const t = performance.now();
await run(0, N);
const s = (performance.now() - t) / 1000;
console.log(N, ((N / s / 2000) * 100).toFixed(1) + "%");
await mod.app.close();
