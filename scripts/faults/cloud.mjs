// `npm run faults:aws` / `faults:gcp` (`node scripts/faults/cloud.mjs <provider>`): a cloud's
// fault tests (test/<provider>.faults.*.test.ts) on its
// offline backend behind the fault proxies (src/testing/fault-proxy.ts), one file at a time
// (they start processes of their own and time recoveries), then their rows: fault, inputs, runs,
// lost, duplicated, attempts, time to the last result. Exits non-zero when any test failed.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";

const provider = process.argv[2] ?? "aws";
const files = readdirSync("test")
  .filter((f) => new RegExp(`^${provider}\\.faults\\..*\\.test\\.ts$`).test(f))
  .map((f) => `test/${f}`);
const rows = [];
const child = spawn(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--maxWorkers=1", ...files], {
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, FAASADE_FAULTS: "1" },
});
let pending = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString("utf8");
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) {
    const at = line.indexOf("fault row: ");
    if (at >= 0) rows.push(JSON.parse(line.slice(at + "fault row: ".length)));
  }
});
const code = await new Promise((resolve) => child.on("close", resolve));
console.log("\n| fault | inputs | runs | lost | duplicated | attempts | time to last result |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  const attempts = Object.entries(r.attempts)
    .map(([a, n]) => `${n}× attempt ${a}`)
    .join(", ");
  console.log(
    `| ${r.fault} | ${r.inputs} | ${r.runs} | ${r.lost} | ${r.duplicated} | ${attempts} | ${(r.ms / 1000).toFixed(1)} s |`,
  );
}
process.exit(code ?? 1);
