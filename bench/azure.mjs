// The azure provider against startTestBackend("azure") (azurite for Blob and Queue Storage, the ARM
// and managed-identity doubles, and the Functions host stand-in running each function app's
// instances under the real @azure/functions in processes of their own), for `npm run bench`: Blob
// and Queue requests per spawned input (client and runtime together; the host's own queue requests
// apart), Blob requests of one long get(), remote against a raw POST to the same host stand-in, and
// the size of the runtime bundle. Prints one JSON line; the per-operation breakdown goes to stderr.
//
// This process is a user's program: `azure()` with DefaultAzureCredential (the managed-identity
// double) and the backend's env. The backend counts every Blob and Queue request of the app's
// clients and instances (and the host's own queue requests apart); this process's Blob requests also
// pass a counting proxy of its own, so that the client's share of a get() is told apart.
import { execFileSync } from "node:child_process";
import os from "node:os";
import { Function_, encode } from "faasade";
import { azure } from "faasade/azure";
import { startTestBackend } from "faasade/testing";
import { interleavedP50 } from "./latency.mjs";
import { mapVsRaw, postSides } from "./map-vs-raw.mjs";
import { containerName, siteName } from "../dist/src/providers/azure/names.js";
import { startAzureFaultProxy } from "../dist/src/testing/azure/faults.js";

const APP = "bench-azure";
/** What else the 2-core machine ran: the 1-minute load average at the start and at the end. */
const loadAtStart = os.loadavg()[0];
const backend = await startTestBackend("azure", { module: new URL("./azure-app.mjs", import.meta.url) });
Object.assign(process.env, backend.env);
// The client's Blob requests: a proxy of this process's in front of the backend's Blob endpoint.
const connection = backend.env.FAASADE_AZURE_STORAGE_CONNECTION_STRING;
const blobEndpoint = new URL(/BlobEndpoint=([^;]+)/.exec(connection)[1]);
const proxy = await startAzureFaultProxy(blobEndpoint.origin, "blob");
const provider = azure({
  storage: { connectionString: connection.replace(blobEndpoint.origin, proxy.url) },
  endpoints: { arm: backend.env.FAASADE_AZURE_ENDPOINT_ARM, functions: backend.env.FAASADE_AZURE_ENDPOINT_FUNCTIONS },
  ca: backend.arm.ca, // the ARM double's loopback certificate (another process trusts it through NODE_EXTRA_CA_CERTS)
});
const fn = (name) => Function_.fromName(APP, name, { provider });
const take = () => Object.fromEntries(Object.entries(backend.takeRequestCounts()).filter(([, c]) => c !== 0));
const sum = (counts, pred = () => true) => Object.entries(counts).reduce((n, [op, c]) => (pred(op) ? n + c : n), 0);
const add = (...all) => {
  const out = {};
  for (const counts of all) for (const [op, c] of Object.entries(counts)) out[op] = (out[op] ?? 0) + c;
  return out;
};
const sorted = (counts) => Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
const out = {};

// Spawning 10 000 inputs: every Blob and Queue request from the first spawn until the last input's
// outcome is stored, the client's and the instances' alike, and the host stand-in's own.
const ref = {
  prefix: backend.env.FAASADE_AZURE_PREFIX,
  subscriptionId: backend.env.AZURE_SUBSCRIPTION_ID,
  resourceGroup: backend.env.FAASADE_AZURE_RESOURCE_GROUP,
  app: APP,
  environment: "main",
};
const squareSite = siteName(ref, "square");
const square = await fn("square").hydrate(); // a handle, looked up once, as a program keeps it
if ((await square.remote(3)) !== 9) throw new Error("square.remote(3) is not 9");
const warm = await square.spawn(4); // the queue's lookup and a first delivery, before counting
if ((await warm.get()) !== 16) throw new Error("square.spawn(4).get() is not 16");
await drained(square);
take();
proxy.takeRequests();
// BENCH_AZURE_SPAWNS: fewer spawns while working on this file (the figure is over 10 000).
const SPAWNS = Number(process.env.BENCH_AZURE_SPAWNS ?? 10_000);
// BENCH_AZURE_IN_FLIGHT: spawns in flight at once. 250 and 1 000 both complete 10 000 spawns (22.8 s and
// 32.8 s of spawning on 2 cores). A 10 000-spawn run used to fail at 1 000 on resets: azurite (unpatched) spent
// time in proportion to the messages and blobs it held on every request, fell minutes behind, and closed
// kept-alive connections on its 5 s timer before reading the request waiting on them; azurite-main.ts now
// runs it with loki-speedups.ts. Requests per spawn do not depend on it.
const IN_FLIGHT = Number(process.env.BENCH_AZURE_IN_FLIGHT ?? 250);
out.spawnsInFlight = IN_FLIGHT;
const spawned = new Array(SPAWNS);
// The instances serving them, by process id: one that dies takes its inputs in flight with it.
const squarePids = new Set();
const sampler = setInterval(() => {
  for (const pid of backend.host.pids(squareSite)) squarePids.add(pid);
}, 250);
let t = performance.now();
let queued = 0;
const spawner = async () => {
  while (queued < SPAWNS) {
    const i = queued++;
    spawned[i] = await square.spawn(i);
  }
};
await Promise.all(Array.from({ length: IN_FLIGHT }, spawner));
out.spawnMs = Math.round(performance.now() - t);
const duringSpawns = take();
console.error(`spawned ${SPAWNS} in ${out.spawnMs} ms`);
const statsCalls = await drained(square);
out.drainMs = Math.round(performance.now() - t);
const afterSpawns = take();
clearInterval(sampler);
out.squareInstances = squarePids.size;
console.error(`drained after ${out.drainMs} ms`);
const spawnCounts = add(duringSpawns, afterSpawns);
// The drain's own polling (getCurrentStats: the queue's properties and a peek) is the benchmark's.
for (const op of ["queue:Get Queue Metadata", "queue:Peek Messages"]) {
  spawnCounts[op] = (spawnCounts[op] ?? 0) - statsCalls;
  if (spawnCounts[op] === 0) delete spawnCounts[op];
}
const clientBlob = proxy.takeRequests();
out.spawns = SPAWNS;
out.spawnBlobRequests = sum(spawnCounts, (op) => op.startsWith("blob:"));
out.spawnQueueRequests = sum(spawnCounts, (op) => op.startsWith("queue:"));
out.spawnHostQueueRequests = sum(spawnCounts, (op) => op.startsWith("host:"));
out.spawnBlobRequestsPerInput = out.spawnBlobRequests / SPAWNS;
out.spawnQueueRequestsPerInput = out.spawnQueueRequests / SPAWNS;
out.spawnHostQueueRequestsPerInput = out.spawnHostQueueRequests / SPAWNS;
// faasade's own storage requests (Blob and Queue: both Azure Storage), the figure; the host's apart.
out.spawnStorageRequestsPerInput = (out.spawnBlobRequests + out.spawnQueueRequests) / SPAWNS;
out.spawnClientBlobRequests = sum(clientBlob);
out.spawnRuntimeBlobRequests = out.spawnBlobRequests - out.spawnClientBlobRequests;
out.spawnByOperation = sorted(spawnCounts);
out.spawnClientBlobByOperation = sorted(clientBlob);
// Every spawned result, checked (read after the count: reading results is get()'s cost, below).
// The queue is empty and nothing runs: a call still pending now was lost on the way.
let next = 0;
out.lostInputs = 0;
out.failedInputs = 0;
out.resultsChecked = 0;
const check = async () => {
  while (next < SPAWNS) {
    const i = next++;
    let got;
    try {
      got = await spawned[i].get({ timeoutMs: 0 });
    } catch (err) {
      if (err?.name === "TimeoutError") out.lostInputs++;
      else {
        out.failedInputs++;
        out.firstFailure ??= `spawn(${i}): ${err?.name}: ${String(err?.message).slice(0, 300)}`;
      }
      continue;
    }
    if (got !== i * i) throw new Error(`spawn(${i}).get() answered ${JSON.stringify(got)}, not ${i * i}`);
    out.resultsChecked++;
  }
};
await Promise.all(Array.from({ length: 64 }, check));
if (out.lostInputs + out.failedInputs > 0)
  console.error(`${out.lostInputs} spawned inputs lost, ${out.failedInputs} failed (${out.firstFailure ?? "-"})`);
out.resultCheckBlobRequests = sum(take(), (op) => op.startsWith("blob:"));
proxy.takeRequests();

// A get() on a call that finishes after 30 s: the client's Blob requests (through this process's
// proxy), and for context what the instance and the host asked meanwhile.
const sleep = await fn("sleep").hydrate();
const long = await sleep.spawn(30_000);
take();
proxy.takeRequests();
t = performance.now();
if ((await long.get({ timeoutMs: 180_000 })) !== 30_000) throw new Error("sleep.spawn(30 000).get() is not 30 000");
out.longGetMs = Math.round(performance.now() - t);
const longWindow = take();
const longClient = proxy.takeRequests();
out.longGetBlobRequests = sum(longClient);
out.longGetClientByOperation = sorted(longClient);
out.longGetWindowBlobRequests = sum(longWindow, (op) => op.startsWith("blob:"));
out.longGetWindowByOperation = sorted(longWindow);

// remote against a raw POST of the same envelope to the same host stand-in (same route, same key
// header), sequential, p50. The key read once from the host, as a hand-written client keeps it.
const url = `${backend.host.urlOf(squareSite)}/faasade`;
const key = backend.host.keyOf(squareSite);
const envelope = (i) => ({
  v: 1,
  store: { name: containerName(ref), prefix: "" },
  app: APP,
  env: "main",
  fn: "square",
  inputId: `in-raw-${i}`,
  callId: `fc-raw-${i}`,
  attempt: 1,
  args: Buffer.from(encode([i], "args")).toString("base64"),
});
const raw = async (i) => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "x-functions-key": key, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(envelope(i)),
  });
  const text = await res.text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new Error(`the raw POST answered ${res.status}: ${text.slice(0, 200)}`);
  }
  if (!res.ok || answer.status !== "SUCCESS") throw new Error(`the raw POST answered ${res.status} ${answer.status}`);
};
const viaFaasade = async (i) => {
  if ((await square.remote(i)) !== i * i) throw new Error(`square.remote(${i}) is not ${i * i}`);
};
const latency = await interleavedP50(raw, viaFaasade);
out.rawPostP50Us = latency.raw;
out.remoteP50Us = latency.faasade;
out.rawPostP50UsRounds = latency.rawRounds;
out.remoteP50UsRounds = latency.faasadeRounds;
out.remoteRatio = latency.ratio;
out.remoteRatioRounds = latency.ratioRounds;

// A 3 000-input map against raw POSTs (route and key header as above) of the same envelopes with the same concurrency.
// azure() maps through invokes by default (fanOutFrom: never), at most maxInFlight (64) at once: the
// raw side keeps 64 in flight too (the function's two instances take 32 each). Every answer decoded
// and checked, on both sides.
const MAP_IN_FLIGHT = 64;
out.map = await mapVsRaw({ fn: square, ...postSides(url, { "x-functions-key": key }, envelope), concurrency: MAP_IN_FLIGHT });
console.error(`azure map ${JSON.stringify(out.map)}`);

// The runtime bundle without user code and the Azure SDKs (the remote build installs them;
// deploy/entry.ts), minified: the entry deploy writes.
const esbuild = await import("esbuild");
const emptyApp = new URL("./azure-empty-app.mjs", import.meta.url).pathname;
const built = await esbuild.build({
  stdin: {
    contents: [
      'import { appModule, registerFaasade } from "faasade/azure/runtime";',
      `appModule(() => import(${JSON.stringify(emptyApp)}));`,
      "registerFaasade();",
    ].join("\n"),
    resolveDir: new URL(".", import.meta.url).pathname,
    loader: "js",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  keepNames: true,
  write: false,
  metafile: true,
  external: ["@azure/*", "better-sqlite3", "tsx", "esbuild", "fauxqs", "vitest", "fflate"],
});
out.runtimeBundleBytes = built.outputFiles[0].contents.byteLength;
const inputs = Object.entries(built.metafile.outputs["<stdout>"]?.inputs ?? Object.values(built.metafile.outputs)[0].inputs);
out.runtimeBundleTop = inputs
  .sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)
  .slice(0, 15)
  .map(([path, { bytesInOutput }]) => [path.replace(/^.*node_modules\//, ""), bytesInOutput]);

await provider.close();
await proxy.close();
await backend.close();
out.loadAverage = [loadAtStart, os.loadavg()[0]].map((l) => Math.round(l * 10) / 10);
out.date = `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`;
out.cores = os.cpus().length;
out.cpuModel = os.cpus()[0]?.model ?? "unknown";
out.node = process.version;
out.commit = commitOf();
console.error(
  JSON.stringify(
    {
      spawnByOperation: out.spawnByOperation,
      spawnClientBlobByOperation: out.spawnClientBlobByOperation,
      longGetClientByOperation: out.longGetClientByOperation,
      longGetWindowByOperation: out.longGetWindowByOperation,
      runtimeBundleTop: out.runtimeBundleTop,
    },
    null,
    1,
  ),
);
console.log(JSON.stringify(out));

/** Waits until the function's queue is empty and nothing runs; resolves with the stats calls made. */
async function drained(handle) {
  for (let calls = 1; ; calls++) {
    const s = await handle.getCurrentStats();
    if (s.backlog === 0 && s.numRunningInputs === 0) return calls;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The commit measured, marked when src/ differs from it. */
function commitOf() {
  try {
    const git = (...args) => execFileSync("git", args, { encoding: "utf8" }).trim();
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--", "src") ? " (src/ modified)" : ""}`;
  } catch {
    return "n/a";
  }
}
