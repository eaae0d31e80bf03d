// CPU per sequential call for the whole process tree: faasade's `remote` of x*x against a raw
// fork IPC round trip, in one process, in interleaved rounds (a round of one, then a round of the
// other, ROUNDS times), so that the machine's drifts hit both alike. CPU is what the kernel
// charged every thread of this process and of its descendants (/proc/<pid>/task/*/schedstat,
// field 1, ns): unlike wall time, it does not swing with vCPU wake-ups. Wall p50 is context.
//
// Placement is fixed, the same for both sides: where the kernel puts a caller and its child is a
// lottery on a VM, and it moves the figure 3x (a raw round trip: ~22 µs of CPU with both processes
// on one CPU, ~72 µs on two, since a wake-up across vCPUs is that costly; docs/performance.md). The
// judged rounds run "split": this process on one CPU, every child on another, which is where the
// kernel puts them on an idle machine. Then as many rounds run "shared", everything on one CPU: no
// cross-CPU wake-up, so the ratio shows the software's own cost (context; those rounds come after
// the judged ones, so faasade's code is warmer in them). Without taskset or a second CPU, the rounds
// run where the kernel puts them ("free") and no shared rounds run.
//
//   node bench/remote-cpu.mjs [rounds] [callsPerRound]
//
// Prints one JSON line. Every result is checked; a wrong one exits non-zero. `npm run bench` runs it
// through bench/worker.mjs (mode "cpu"), one fresh process per repetition.
import { execFileSync, fork } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { descendantsOf } from "./proc-watch.mjs";

const WARMUP = 500;

/** This process and every descendant. */
const tree = () => descendantsOf(process.pid);

/** Nanoseconds on a CPU, summed over every thread of `pids`. */
function cpuNs(pids) {
  let ns = 0;
  for (const pid of pids) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
      } catch {}
    }
  }
  return ns;
}

/** The first two CPUs this process may run on, or undefined when there is one only. */
function twoCpus() {
  const line = readFileSync("/proc/self/status", "utf8").match(/^Cpus_allowed_list:\s*(.+)$/m)?.[1] ?? "";
  const cpus = [];
  for (const part of line.split(",")) {
    const [from, to = from] = part.split("-").map(Number);
    for (let c = from; c <= to && cpus.length < 2; c++) cpus.push(c);
  }
  return cpus.length === 2 ? cpus : undefined;
}

/** Pins every thread of `pid` to `cpu`; false when taskset cannot (not installed, or refused). */
function pin(pid, cpu) {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function check(x, r) {
  if (r !== x * x) throw new Error(`wrong result ${r} for input ${x}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The figures of `rounds` interleaved rounds of `perRound` sequential calls on each side. */
export async function measureRemoteCpu(ROUNDS, PER_ROUND) {
  const mod = await import("./faasade-app.mjs");
  const child = fork(fileURLToPath(new URL("./fork-child.cjs", import.meta.url)), ["square"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let reply;
  child.on("message", (m) => reply(m[1]));
  const raw = (x) =>
    new Promise((resolve) => {
      reply = resolve;
      child.send([0, x]);
    });
  const sides = { faasade: (x) => mod.square.remote(x), fork: raw };
  for (const call of Object.values(sides)) for (let x = 0; x < WARMUP; x++) check(x, await call(x));

  const cpus = twoCpus();
  const pinned = cpus !== undefined && pin(process.pid, cpus[0]);
  /** A placer: before each round, the tree's processes not placed yet go to `childCpu` (a container may have started since). */
  const placer = (childCpu) => {
    const placed = new Set([process.pid]);
    return (pids) => {
      for (const pid of pids) if (!placed.has(pid) && pin(pid, childCpu)) placed.add(pid);
    };
  };
  const split = await rounds(sides, ROUNDS, PER_ROUND, pinned ? placer(cpus[1]) : () => {});
  const shared = pinned ? await rounds(sides, ROUNDS, PER_ROUND, placer(cpus[0]), ROUNDS) : undefined;
  child.kill();
  await mod.app.close();
  return {
    rounds: ROUNDS,
    perRound: PER_ROUND,
    placement: pinned ? "split" : "free",
    ...split,
    ...(shared === undefined
      ? {}
      : { shared: { faasadeCpuUs: shared.faasadeCpuUs, forkCpuUs: shared.forkCpuUs, ratio: shared.ratio } }),
  };
}

/** `count` interleaved rounds of `perRound` calls a side, `place(pids)` run before each; `first`: the first round's number (inputs differ across rounds). */
async function rounds(sides, count, perRound, place, first = 0) {
  const cpu = { faasade: [], fork: [] };
  /** The same, of this process alone (the caller): the rest is the children's. */
  const own = { faasade: [], fork: [] };
  const wall = { faasade: [], fork: [] };
  for (let round = first; round < first + count; round++) {
    // Alternate which side goes first, so that neither always follows the other.
    const order = round % 2 === 0 ? ["faasade", "fork"] : ["fork", "faasade"];
    for (const side of order) {
      const pids = tree();
      place(pids);
      const call = sides[side];
      const before = cpuNs(pids);
      const ownBefore = cpuNs([process.pid]);
      for (let i = 0; i < perRound; i++) {
        const x = round * perRound + i;
        const t0 = performance.now();
        check(x, await call(x));
        wall[side].push((performance.now() - t0) * 1000);
      }
      own[side].push((cpuNs([process.pid]) - ownBefore) / perRound / 1000);
      cpu[side].push((cpuNs(pids) - before) / perRound / 1000);
    }
  }
  return {
    faasadeCpuUs: median(cpu.faasade),
    forkCpuUs: median(cpu.fork),
    ratio: median(cpu.faasade) / median(cpu.fork),
    ratioPerRound: cpu.faasade.map((f, i) => f / cpu.fork[i]),
    faasadeCallerCpuUs: median(own.faasade),
    forkParentCpuUs: median(own.fork),
    faasadeWallP50Us: median(wall.faasade),
    forkWallP50Us: median(wall.fork),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  measureRemoteCpu(Number(process.argv[2] ?? 16), Number(process.argv[3] ?? 400)).then(
    (out) => {
      console.log(JSON.stringify(out));
      process.exit(0);
    },
    (err) => {
      console.error(err?.stack ?? String(err));
      process.exit(1);
    },
  );
}
