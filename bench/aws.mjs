// The aws provider against startTestBackend("aws") (fauxqs, the Lambda test host, the SQS
// poller), for `npm run bench`: requests per spawn, requests per long get(), remote against a
// raw InvokeCommand to the same host, and the size of the runtime bundle. Prints one JSON line.
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { Function_, decode, encode } from "faasade";
import { startTestBackend } from "faasade/testing";
import { interleavedP50 } from "./latency.mjs";
import { mapVsRaw } from "./map-vs-raw.mjs";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const backend = await startTestBackend("aws", { module: new URL("./aws-app.mjs", import.meta.url) });
const fn = (name) => Function_.fromName("bench-aws", name, { provider: backend.provider });
const sum = (counts, pred) => Object.entries(counts).reduce((n, [op, c]) => (pred(op) ? n + c : n), 0);
const out = {};

// Spawning 10 000 inputs: the client's SQS requests (sends and queue lookups; the poller's receives and deletes are not the client's).
await fn("square").remote(1);
backend.takeRequestCounts();
const SPAWNS = 10_000;
let t = performance.now();
await Promise.all(Array.from({ length: SPAWNS }, (_, i) => fn("square").spawn(i)));
out.spawnMs = Math.round(performance.now() - t);
const afterSpawn = backend.takeRequestCounts();
out.spawns = SPAWNS;
out.spawnSqsRequests = sum(afterSpawn, (op) => /^sqs:(SendMessage|SendMessageBatch|GetQueueUrl)$/.test(op));
// Let the backend drain the spawns before measuring anything else.
for (;;) {
  const s = await fn("square").getCurrentStats();
  if (s.backlog === 0 && s.numRunningInputs === 0) break;
  await new Promise((r) => setTimeout(r, 500));
}

// A get() on a call that finishes after 30 s: the client's reads of the call's result and record.
const long = await fn("sleep").spawn(30_000);
backend.takeRequestCounts();
t = performance.now();
await long.get();
out.longGetMs = Math.round(performance.now() - t);
out.longGetS3Requests = sum(backend.takeRequestCounts(), (op) => /^s3:GET (results|calls)\/$/.test(op));

// remote against a raw InvokeCommand of the same envelope to the same host, sequential, p50.
const lambda = new LambdaClient({
  region: backend.env.AWS_REGION,
  endpoint: backend.env.AWS_ENDPOINT_URL_LAMBDA,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const envelope = (i) => ({
  v: 1,
  app: "bench-aws",
  env: "main",
  fn: "square",
  inputId: `in-raw-${i}`,
  callId: `fc-raw-${i}`,
  attempt: 1,
  args: Buffer.from(encode([i], "args")).toString("base64"),
});
const raw = (i) =>
  lambda.send(
    new InvokeCommand({
      FunctionName: `${backend.env.FAASADE_AWS_PREFIX}-main-bench-aws-square`,
      Qualifier: "live",
      Payload: Buffer.from(JSON.stringify(envelope(i))),
    }),
  );
const square = await fn("square").hydrate(); // a handle, looked up once, as a program keeps it
const viaFaasade = (i) => square.remote(i);
const latency = await interleavedP50(raw, viaFaasade);
out.rawInvokeP50Us = latency.raw;
out.remoteP50Us = latency.faasade;
out.rawInvokeP50UsRounds = latency.rawRounds;
out.remoteP50UsRounds = latency.faasadeRounds;
out.remoteRatio = latency.ratio;
out.remoteRatioRounds = latency.ratioRounds;

// A 3 000-input map against raw InvokeCommands of the same envelopes with the same concurrency.
// aws() maps through invokes by default (fanOutFrom: never), at most maxInFlight (64) at once: the
// raw side keeps 64 in flight too, through a client with the sockets faasade's has (256, not the
// SDK's 50, which would cap it below 64). Every answer decoded and checked, on both sides.
const MAP_IN_FLIGHT = 64;
const mapLambda = (extra = {}) =>
  new LambdaClient({
    region: backend.env.AWS_REGION,
    endpoint: backend.env.AWS_ENDPOINT_URL_LAMBDA,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    requestHandler: { httpAgent: { maxSockets: 256 }, httpsAgent: { maxSockets: 256 } },
    ...extra,
  });
/** `x*x` by a raw InvokeCommand from `client`, the input's ids tagged per side and round. */
const invokeSquare = (client, tag) => async (x, i, round) => {
  const answer = await client.send(
    new InvokeCommand({
      FunctionName: `${backend.env.FAASADE_AWS_PREFIX}-main-bench-aws-square`,
      Qualifier: "live",
      Payload: Buffer.from(JSON.stringify({ ...envelope(x), inputId: `in-${tag}-${round}-${i}`, callId: `fc-${tag}-${round}` })),
    }),
  );
  const outcome = JSON.parse(Buffer.from(answer.Payload).toString("utf8"));
  if (answer.FunctionError !== undefined || outcome.status !== "SUCCESS")
    throw new Error(`raw InvokeCommand answered ${answer.FunctionError ?? outcome.status}`);
  return decode(Buffer.from(outcome.value, "base64"));
};
const rawSquare = invokeSquare(mapLambda(), "rawmap");
// Context: the same InvokeCommands from a client made with `cacheMiddleware: true`, as faasade's are.
const rawSquareCached = invokeSquare(mapLambda({ cacheMiddleware: true }), "rawcached");
out.map = await mapVsRaw({ fn: square, raw: rawSquare, alsoRaw: rawSquareCached, concurrency: MAP_IN_FLIGHT });
console.error(`aws map ${JSON.stringify(out.map)}`);

// The runtime bundle without user code or the AWS SDK, minified.
const esbuild = await import("esbuild");
const built = await esbuild.build({
  stdin: {
    contents: `import * as app from ${JSON.stringify(new URL("./aws-empty-app.mjs", import.meta.url).pathname)}; export const a = app; export { handler, streamHandler } from "faasade/aws/runtime";`,
    resolveDir: new URL(".", import.meta.url).pathname,
    loader: "js",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  minify: true,
  keepNames: true,
  write: false,
  external: ["@aws-sdk/*", "better-sqlite3", "tsx", "esbuild", "fauxqs", "vitest", "fflate"],
});
out.runtimeBundleBytes = built.outputFiles[0].contents.byteLength;

await backend.close();
console.log(JSON.stringify(out));
