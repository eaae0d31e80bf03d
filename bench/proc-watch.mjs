// What bench/run.mjs reads from /proc while a run lives: the peak summed RSS of the run's process
// tree, and the CPU that processes outside it used meanwhile.
//
// The watcher shares the machine with what it measures, so it must cost little. A scan of every
// process on the machine costs ~1 ms of CPU here; made every 50 ms it took ~2 % of a core, about
// 1 % of a 2-core ideal, from whichever run was measured. So the RSS sample every SAMPLE_MS walks
// only the tree (each process's children and statm, files kept open: ~0.25 ms per sample), and the
// whole-machine scan that accounts for outside CPU runs every FULL_SCAN_MS and at the run's start
// and end. Over 5 s watching 4 processes: 161 ms of CPU before, 44 ms now.
import { closeSync, openSync, readFileSync, readSync, readdirSync } from "node:fs";

export const SAMPLE_MS = 50;
export const FULL_SCAN_MS = 500;
const PAGE = 4096;

/** Every process now: pid → { ppid, ticks } (ticks: CPU time used so far, 1/100 s). */
export function scanProc() {
  const procs = new Map();
  for (const d of readdirSync("/proc")) {
    const c = d.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      procs.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the process ended meanwhile
    }
  }
  return procs;
}

/** `root` and every descendant of it among `procs`, by parent links (any thread's children). */
export function descendantsOf(root, procs = scanProc()) {
  const pids = [root];
  for (let i = 0; i < pids.length; i++) for (const [pid, { ppid }] of procs) if (ppid === pids[i]) pids.push(pid);
  return pids;
}

export function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim().slice(0, 100) || `pid ${pid}`;
  } catch {
    return `pid ${pid}`;
  }
}

const open = new Map();
const buffer = Buffer.alloc(4096);

/**
 * A /proc file's text now, "" once its process is gone. Files stay open between samples: a
 * read at offset 0 makes the kernel write them afresh, one system call instead of four.
 */
function readProc(path) {
  let fd = open.get(path);
  try {
    if (fd === undefined) open.set(path, (fd = openSync(path, "r")));
    return buffer.toString("latin1", 0, readSync(fd, buffer, 0, buffer.length, 0));
  } catch {
    if (fd !== undefined) closeSync(fd);
    open.delete(path);
    return "";
  }
}

/** Resident bytes of one process (statm's second field is VmRSS in pages); 0 once it is gone. */
function rssOf(pid) {
  const statm = readProc(`/proc/${pid}/statm`);
  const at = statm.indexOf(" ") + 1;
  return at === 0 ? 0 : Number(statm.slice(at, statm.indexOf(" ", at))) * PAGE;
}

/** Children of a process's main thread (where Node forks); [] once it is gone. */
function childrenOf(pid) {
  const list = readProc(`/proc/${pid}/task/${pid}/children`).trim();
  return list === "" ? [] : list.split(" ").map(Number);
}

/** Closes every file kept open by the samples (a gone process's file reads as "" until then). */
function closeAll() {
  for (const fd of open.values()) closeSync(fd);
  open.clear();
}

/**
 * Watches the process tree under `root` until `stop()`, which returns { peakBytes, tree, others }:
 * the peak summed RSS, every pid seen in the tree, and the outside load ({ cores, top }).
 */
export function watchTree(root) {
  const tree = new Set([root]);
  const first = new Map();
  const last = new Map();
  const names = new Map();
  const t0 = performance.now();
  let peakBytes = 0;
  const fullScan = () => {
    const procs = scanProc();
    for (const [pid, { ppid, ticks }] of procs) {
      // A child forked off a non-main thread is missed by the walk: the ppid catches it here.
      if (tree.has(ppid)) tree.add(pid);
      if (!first.has(pid)) {
        first.set(pid, ticks);
        names.set(pid, commandOf(pid));
      }
      last.set(pid, ticks);
    }
  };
  const sample = () => {
    let total = 0;
    const stack = [root];
    while (stack.length > 0) {
      const pid = stack.pop();
      tree.add(pid);
      total += rssOf(pid);
      for (const k of childrenOf(pid)) stack.push(k);
    }
    peakBytes = Math.max(peakBytes, total);
  };
  fullScan();
  const sampler = setInterval(sample, SAMPLE_MS);
  const scanner = setInterval(fullScan, FULL_SCAN_MS);
  return {
    stop() {
      clearInterval(sampler);
      clearInterval(scanner);
      closeAll();
      fullScan();
      return { peakBytes, tree, others: outsideLoad(first, last, names, tree, performance.now() - t0) };
    },
  };
}

/**
 * CPU used during a run by processes outside it (and outside this orchestrator): average
 * cores, and the commands of the biggest users.
 */
function outsideLoad(first, last, names, tree, wallMs) {
  let total = 0;
  const users = [];
  for (const [pid, ticks] of last) {
    if (pid === process.pid || tree.has(pid)) continue;
    const used = ticks - first.get(pid);
    if (used <= 0) continue;
    total += used;
    users.push([pid, used]);
  }
  const top = users
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2)
    .filter(([, used]) => used * 10 > wallMs * 0.05)
    .map(([pid]) => names.get(pid));
  return { cores: Math.round((total / 100 / (wallMs / 1000)) * 100) / 100, top };
}
