// What a bare Node start costs on this machine, and whether the environment adds to it.
//
// NODE_EXTRA_CA_CERTS makes Node 20 read and parse that certificate file when the process
// starts. On the sandboxes this benchmark runs on it names the whole system bundle, which
// measured ~90 ms per start (`node -e 0`: ~130 ms with it, ~40 ms without): more than a raw
// fork's whole first call, and paid by every forked child of every implementation alike. No
// benchmark run talks TLS, so the benchmark measures with it unset, and says so.
import { execFileSync } from "node:child_process";

const STARTS = 7;

function startMs(env) {
  const times = [];
  for (let i = 0; i < STARTS; i++) {
    const t = performance.now();
    execFileSync(process.execPath, ["-e", "0"], { env, stdio: "ignore" });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Measures `node -e 0` (median of 7) with the environment as given and, when
 * NODE_EXTRA_CA_CERTS is set, without it; then removes it from this process's environment, so
 * every run the benchmark starts inherits the lighter start.
 */
export function measureNodeStart() {
  const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS;
  const asGivenMs = startMs(process.env);
  if (extraCaCerts === undefined) return { extraCaCerts, asGivenMs, withoutMs: asGivenMs };
  const { NODE_EXTRA_CA_CERTS: _, ...without } = process.env;
  const withoutMs = startMs(without);
  delete process.env.NODE_EXTRA_CA_CERTS;
  return { extraCaCerts, asGivenMs, withoutMs };
}

/** The Machine section's line about it. */
export function nodeStartLine({ extraCaCerts, asGivenMs, withoutMs }) {
  const start = (ms) => `${ms.toFixed(0)} ms`;
  if (extraCaCerts === undefined) return `- A bare Node start (\`node -e 0\`, median of ${STARTS}): ${start(asGivenMs)}`;
  return `- A bare Node start (\`node -e 0\`, median of ${STARTS}): ${start(asGivenMs)} with the environment's \`NODE_EXTRA_CA_CERTS=${extraCaCerts}\`, ${start(withoutMs)} without it. Node parses that file at every start; no run here talks TLS, so every run of every implementation was made without it (bench/node-start.mjs).`;
}
