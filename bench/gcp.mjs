// The gcp provider against startTestBackend("gcp") (the Cloud Storage, Cloud Tasks and Functions
// admin doubles in this process; each function's instances under functions-framework in processes
// of their own), for `npm run bench`: Cloud Tasks + Cloud Storage requests per spawned input
// (client and runtime together), storage requests of one long get(), remote against a raw
// authenticated POST to the same functions-framework server, and the size of the runtime
// bundle. Prints one JSON line; the per-operation breakdown goes to stderr.
//
// This process is a user's program: `gcp()` with credentials (ADC) and endpoints from the
// backend's env, as any other process reaches the backend. Its Cloud Storage requests go through
// a counting proxy, so that the client's share is told apart from the instances' (which reach
// the storage double directly): the double counts both.
import { createServer, request } from "node:http";
import os from "node:os";
import { Agent } from "node:http";
import { v2 } from "@google-cloud/functions";
import { Function_, encode } from "faasade";
import { gcp } from "faasade/gcp";
import { startTestBackend } from "faasade/testing";
import { interleavedP50 } from "./latency.mjs";
import { mapVsRaw, postSides } from "./map-vs-raw.mjs";
import { bucketName, functionId, functionPath } from "../dist/src/providers/gcp/names.js";

const APP = "bench-gcp";
/** What else the 2-core machine ran: the 1-minute load average at the start and at the end. */
const loadAtStart = os.loadavg()[0];
const backend = await startTestBackend("gcp", { module: new URL("./gcp-app.mjs", import.meta.url) });
Object.assign(process.env, backend.env);
const proxy = await countingProxy(backend.env.FAASADE_GCP_ENDPOINT_STORAGE);
const provider = gcp({
  endpoints: {
    functions: backend.env.FAASADE_GCP_ENDPOINT_FUNCTIONS,
    tasks: backend.env.FAASADE_GCP_ENDPOINT_TASKS,
    storage: proxy.url,
  },
});
const fn = (name) => Function_.fromName(APP, name, { provider });
const take = requestCounter(backend);
const sum = (counts, pred = () => true) => Object.entries(counts).reduce((n, [op, c]) => (pred(op) ? n + c : n), 0);
const add = (...all) => {
  const out = {};
  for (const counts of all) for (const [op, c] of Object.entries(counts)) out[op] = (out[op] ?? 0) + c;
  return out;
};
const sorted = (counts) => Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
const out = {};

// Spawning 10 000 inputs: every Cloud Tasks and Cloud Storage request the doubles serve from the
// first spawn until the last input's outcome is stored, the client's and the instances' alike.
const ref = {
  prefix: backend.env.FAASADE_GCP_PREFIX,
  project: backend.env.GOOGLE_CLOUD_PROJECT,
  region: backend.env.FAASADE_GCP_REGION,
  app: APP,
  environment: "main",
};
const square = await fn("square").hydrate(); // a handle, looked up once, as a program keeps it
if ((await square.remote(3)) !== 9) throw new Error("square.remote(3) is not 9");
const warm = await square.spawn(4); // the queue's lookup and a first delivery, before counting
if ((await warm.get()) !== 16) throw new Error("square.spawn(4).get() is not 16");
await drained(square);
take();
proxy.take();
// BENCH_GCP_SPAWNS: fewer spawns while working on this file (the issue's figure is over 10 000).
const SPAWNS = Number(process.env.BENCH_GCP_SPAWNS ?? 10_000);
// At most 1 000 spawns in flight: the Cloud Storage client opens a socket per request (no pool
// limit), and 10 000 at once, with the double's ends in this process too, exceed its 20 000
// file descriptors. Requests per spawn do not depend on it.
const IN_FLIGHT = 1000;
const spawned = new Array(SPAWNS);
// The instances serving them, by process id: one that dies takes its inputs in flight with it.
const squarePids = new Set();
const sampler = setInterval(() => {
  for (const pid of backend.host.pids(functionId(ref, "square"))) squarePids.add(pid);
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
// The drain's own polling (getCurrentStats → ListTasks) is the benchmark's, not the spawns'.
spawnCounts["tasks:ListTasks"] -= statsCalls;
if (spawnCounts["tasks:ListTasks"] === 0) delete spawnCounts["tasks:ListTasks"];
const clientStorage = proxy.take();
out.spawns = SPAWNS;
out.spawnRequests = sum(spawnCounts, (op) => /^(tasks|storage):/.test(op));
out.spawnRequestsPerInput = out.spawnRequests / SPAWNS;
out.spawnTasksRequests = sum(spawnCounts, (op) => op.startsWith("tasks:"));
out.spawnStorageRequests = sum(spawnCounts, (op) => op.startsWith("storage:"));
out.spawnClientStorageRequests = sum(clientStorage);
out.spawnRuntimeStorageRequests = out.spawnStorageRequests - out.spawnClientStorageRequests;
out.spawnByOperation = sorted(spawnCounts);
out.spawnClientStorageByKey = sorted(clientStorage);
// Every spawned result, checked (read after the count: reading results is get()'s cost, below).
// The queue is empty and nothing runs: a call still pending now was lost on the way.
let next = 0;
out.lostInputs = 0;
out.failedInputs = 0;
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
  }
};
await Promise.all(Array.from({ length: 64 }, check));
if (out.lostInputs + out.failedInputs > 0)
  console.error(`${out.lostInputs} spawned inputs lost, ${out.failedInputs} failed (${out.firstFailure ?? "-"})`);
out.resultCheckStorageRequests = sum(take(), (op) => op.startsWith("storage:"));
proxy.take();

// A get() on a call that finishes after 30 s: the client's storage requests (through the proxy),
// and for context what the instance asked meanwhile (its cancel-marker polls, the outcome).
const sleep = await fn("sleep").hydrate();
const long = await sleep.spawn(30_000);
take();
proxy.take();
t = performance.now();
if ((await long.get({ timeoutMs: 180_000 })) !== 30_000) throw new Error("sleep.spawn(30 000).get() is not 30 000");
out.longGetMs = Math.round(performance.now() - t);
const longWindow = take();
const longClient = proxy.take();
out.longGetStorageRequests = sum(longClient);
out.longGetClientByKey = sorted(longClient);
out.longGetWindowStorageRequests = sum(longWindow, (op) => op.startsWith("storage:"));
out.longGetWindowByOperation = sorted(longWindow);

// remote against a raw authenticated POST of the same envelope to the same function URL,
// sequential, p50. The URL from the Functions admin API, the ID token from the metadata server,
// fetched once and reused (tokens last an hour), as a hand-written client would.
const admin = new URL(backend.env.FAASADE_GCP_ENDPOINT_FUNCTIONS);
const functions = new v2.FunctionServiceClient({
  projectId: ref.project,
  fallback: true,
  apiEndpoint: admin.hostname,
  protocol: "http",
  port: Number(admin.port),
});
const [described] = await functions.getFunction({ name: functionPath(ref, "square") });
const url = described.url;
const tokenAnswer = await fetch(
  `http://${backend.env.GCE_METADATA_HOST}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(url)}&format=full`,
  { headers: { "Metadata-Flavor": "Google" } },
);
if (!tokenAnswer.ok) throw new Error(`the metadata server answered ${tokenAnswer.status} for an ID token`);
const token = await tokenAnswer.text();
const envelope = (i) => ({
  v: 1,
  store: { name: bucketName(ref), prefix: "" },
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
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(envelope(i)),
  });
  const answer = JSON.parse(await res.text());
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

// A 3 000-input map against raw authenticated POSTs of the same envelopes with the same concurrency.
// gcp() maps through invokes by default (fanOutFrom: never), at most maxInFlight (64) at once: the
// raw side keeps 64 in flight too (the function's two instances take 32 each). Every answer decoded
// and checked, on both sides.
const MAP_IN_FLIGHT = 64;
out.map = await mapVsRaw({
  fn: square,
  ...postSides(url, { authorization: `Bearer ${token}` }, envelope),
  concurrency: MAP_IN_FLIGHT,
});
console.error(`gcp map ${JSON.stringify(out.map)}`);

// The runtime bundle without user code and the packages Google installs (the SDKs,
// functions-framework) or faasade never ships, minified: the entry deploy writes (deploy/entry.ts).
const esbuild = await import("esbuild");
const emptyApp = new URL("./gcp-empty-app.mjs", import.meta.url).pathname;
const built = await esbuild.build({
  stdin: {
    contents: [
      'import { appModule, registerFaasade } from "faasade/gcp/runtime";',
      `appModule(() => import(${JSON.stringify(emptyApp)}));`,
      'registerFaasade({ entryPoint: "faasade" });',
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
  external: ["@google-cloud/*", "google-auth-library", "better-sqlite3", "tsx", "esbuild", "fauxqs", "vitest", "fflate"],
});
out.runtimeBundleBytes = built.outputFiles[0].contents.byteLength;
const inputs = Object.entries(built.metafile.outputs["<stdout>"]?.inputs ?? Object.values(built.metafile.outputs)[0].inputs);
out.runtimeBundleTop = inputs
  .sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)
  .slice(0, 15)
  .map(([path, { bytesInOutput }]) => [path.replace(/^.*node_modules\//, ""), bytesInOutput]);

await functions.close();
await provider.close();
await proxy.close();
await backend.close();
out.loadAverage = [loadAtStart, os.loadavg()[0]].map((l) => Math.round(l * 10) / 10);
console.error(
  JSON.stringify(
    {
      spawnByOperation: out.spawnByOperation,
      spawnClientStorageByKey: out.spawnClientStorageByKey,
      longGetClientByKey: out.longGetClientByKey,
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

/** The backend's counts since the last take, without the operations that saw none. */
function requestCounter(b) {
  return () => Object.fromEntries(Object.entries(b.takeRequestCounts()).filter(([, c]) => c !== 0));
}

/**
 * A loopback HTTP proxy to the Cloud Storage double that counts what passes by method and the
 * kind of object (the key's first part: results/, calls/, ...).
 */
async function countingProxy(target) {
  const to = new URL(target);
  // A fresh connection per request: a kept-alive one the double closes meanwhile would reset.
  const agent = new Agent({ keepAlive: false, maxSockets: 256 });
  let counts = {};
  const server = createServer((req, res) => {
    const u = new URL(req.url, "http://127.0.0.1");
    const name = u.searchParams.get("name") ?? decodeURIComponent(u.pathname.split("/o/")[1] ?? "");
    const what =
      req.method === "GET" && u.searchParams.get("alt") === "media"
        ? "download"
        : u.pathname.startsWith("/upload/")
          ? "insert"
          : req.method === "GET"
            ? "metadata"
            : req.method;
    const op = `${what} ${name.includes("/") ? `${name.split("/")[0]}/` : name || u.pathname}`;
    counts[op] = (counts[op] ?? 0) + 1;
    const up = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host }, agent },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    up.on("error", (err) => {
      console.error("proxy:", err.code, err.message);
      res.destroy();
    });
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    take() {
      const taken = counts;
      counts = {};
      return taken;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
