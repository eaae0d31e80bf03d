// Sequential latency of two calls side by side, for the cloud benches (aws.mjs, gcp.mjs, azure.mjs).
import { median } from "./map-vs-raw.mjs";

/** The p50 of `n` sequential calls in µs, after 50 to warm. */
export async function p50(call, n = 400) {
  for (let i = 0; i < 50; i++) await call(i);
  const lat = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await call(i);
    lat.push(performance.now() - start);
  }
  lat.sort((a, b) => a - b);
  return lat[Math.floor(n / 2)] * 1000;
}

/**
 * Five interleaved rounds of each, their medians, and the median of the rounds' ratios (faasade over
 * raw), which judges the row: a round's two p50s are measured back to back, so a drift of the machine
 * between rounds (p50s swing 1.5–4.5 ms from round to round here) cancels within the pair.
 */
export async function interleavedP50(raw, viaFaasade) {
  const rawRuns = [];
  const faRuns = [];
  for (let round = 0; round < 5; round++) {
    rawRuns.push(await p50(raw));
    faRuns.push(await p50(viaFaasade));
  }
  const ratioRounds = faRuns.map((fa, i) => fa / rawRuns[i]);
  return {
    raw: Math.round(median(rawRuns)),
    faasade: Math.round(median(faRuns)),
    rawRounds: rawRuns.map(Math.round),
    faasadeRounds: faRuns.map(Math.round),
    ratio: median(ratioRounds),
    ratioRounds,
  };
}
