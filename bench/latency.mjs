// Sequential latency of two calls side by side, for the cloud benches (aws.mjs, gcp.mjs, azure.mjs).

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

/** Five interleaved rounds of each, and their medians: drifts of a noisy machine hit both alike. */
export async function interleavedP50(raw, viaFaasade) {
  const rawRuns = [];
  const faRuns = [];
  for (let round = 0; round < 5; round++) {
    rawRuns.push(await p50(raw));
    faRuns.push(await p50(viaFaasade));
  }
  const median = (runs) => Math.round([...runs].sort((a, b) => a - b)[2]);
  return {
    raw: median(rawRuns),
    faasade: median(faRuns),
    rawRounds: rawRuns.map(Math.round),
    faasadeRounds: faRuns.map(Math.round),
  };
}
