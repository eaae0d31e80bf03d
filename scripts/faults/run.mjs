// `npm run faults [-- name ...]`: fault-injection scenarios on the local provider and local
// deployments. Each prints its counts (runs, inputs, lost, duplicated, attempts, time to
// recover) and PASS or FAIL; the run exits 1 when any scenario failed.
import { SCENARIOS } from "./scenarios.mjs";

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w || s.name.startsWith(`${w}-`)));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
  process.exit(2);
}
const chosen =
  wanted.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => wanted.some((w) => s.name === w || s.name.startsWith(`${w}-`)));
const outcomes = [];
const t0 = performance.now();
for (const scenario of chosen) {
  const started = performance.now();
  console.log(`\n== ${scenario.name}: ${scenario.what}`);
  try {
    // No scenario may hang the run: one that does not finish in time fails as such.
    const limitS = scenario.limitS ?? 180;
    const results = await Promise.race([
      scenario.run(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`did not finish within ${limitS} s`)), limitS * 1000).unref()),
    ]);
    for (const r of [results].flat()) outcomes.push({ ...r, s: (performance.now() - started) / 1000 });
  } catch (err) {
    console.log(`FAIL ${scenario.name}: threw ${err?.stack ?? err}`);
    outcomes.push({ name: scenario.name, ok: false, s: (performance.now() - started) / 1000 });
  }
  console.log(`   (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
const failed = outcomes.filter((o) => !o.ok);
console.log(
  `\n${outcomes.length - failed.length} of ${outcomes.length} passed in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
);
for (const f of failed) console.log(`  failed: ${f.name}`);
// Containers of in-process apps keep nothing alive, but a scenario's leftovers must not hold the run.
process.exit(failed.length > 0 ? 1 : 0);
