// Where a map's time and memory go, for whoever makes faasade faster: CPU per input in the
// caller (user, system) and in each container, and bytes allocated per input in the caller.
// Usage: npm run build && node bench/probe.mjs [inputs]
import { readdirSync, readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { app, square } from "./faasade-app.mjs";

const N = Number(process.argv[2] ?? 600_000);
function* range(n) {
  for (let i = 0; i < n; i++) yield i;
}
const drain = async (n) => {
  for await (const _ of square.map(range(n))) {
    // results are discarded
  }
};

/** CPU time (µs) of each child process of this one, from /proc. */
function childCpu() {
  const out = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const fields = readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1].split(" ");
      if (Number(fields[1]) === process.pid) out.set(d, (Number(fields[11]) + Number(fields[12])) * 10_000);
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

await drain(100_000); // warm-up: containers up, code optimized
const kids0 = childCpu();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await drain(N);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const kids = [...childCpu()].map(([pid, us]) => (us - (kids0.get(pid) ?? us)) / N);

const session = new Session();
session.connect();
await session.post("HeapProfiler.startSampling", {
  samplingInterval: 4096,
  includeObjectsCollectedByMinorGC: true,
  includeObjectsCollectedByMajorGC: true,
});
await drain(200_000);
const { profile } = await session.post("HeapProfiler.stopSampling");
let bytes = 0;
const sum = (node) => {
  bytes += node.selfSize;
  for (const child of node.children) sum(child);
};
sum(profile.head);

console.log(
  JSON.stringify({
    inputs: N,
    callsPerSec: Math.round(N / (wallMs / 1000)),
    callerUserUsPerInput: +(cpu.user / N).toFixed(2),
    callerSysUsPerInput: +(cpu.system / N).toFixed(2),
    containerCpuUsPerInput: kids.map((v) => +v.toFixed(2)),
    callerBytesPerInput: Math.round(bytes / 200_000),
  }),
);
await app.close();
