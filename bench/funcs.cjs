// The two functions under test, shared by every implementation. CommonJS so that piscina,
// tinypool and faast.js (which packs the module with webpack) can all load the same file.
"use strict";

/** Pure call overhead: the work itself is negligible. */
function square(x) {
  return x * x;
}

/**
 * About 1 ms of busy CPU, then x*x. The spin is bounded by the monotonic clock (as in
 * the peer study's method), so a call lasts ~1 ms of wall time even when the spinning
 * thread is preempted; throughput then shows how well the dispatcher keeps both workers fed.
 */
function burn(x) {
  const end = process.hrtime.bigint() + 1_000_000n;
  let spins = 0;
  while (process.hrtime.bigint() < end) spins++;
  return x * x + (spins & 0);
}

module.exports = { square, burn };
