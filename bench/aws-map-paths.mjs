// Measures the two paths a map can take on AWS (docs/aws.md, "Maps") against startTestBackend("aws"):
// invokes, and SQS fan-out. Usage: npm run build && node bench/aws-map-paths.mjs
import { Function_ } from "faasade";
import { aws } from "faasade/aws";
import { startTestBackend } from "faasade/testing";
const b = await startTestBackend("aws", { module: new URL("./aws-app.mjs", import.meta.url) });
const mk = (fanOutFrom) =>
  aws({
    prefix: b.env.FAASADE_AWS_PREFIX,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    fanOutFrom,
    endpoints: { lambda: b.env.AWS_ENDPOINT_URL_LAMBDA, sqs: b.env.AWS_ENDPOINT_URL_SQS, s3: b.env.AWS_ENDPOINT_URL_S3 },
  });
for (const [label, from] of [
  ["invokes", Infinity],
  ["queue", 200],
  ["invokes", Infinity],
  ["queue", 200],
]) {
  const p = mk(from);
  const sq = Function_.fromName("bench-aws", "square", { provider: p });
  const xs = Array.from({ length: 3000 }, (_, i) => i);
  b.takeRequestCounts();
  const t = performance.now();
  let n = 0;
  for await (const _ of sq.map(xs)) n++;
  const ms = performance.now() - t;
  const c = b.takeRequestCounts();
  const total = Object.values(c).reduce((a, x) => a + x, 0);
  console.log(label, n, Math.round(ms), "ms", Math.round(3000 / (ms / 1000)), "/s; storage requests", total, JSON.stringify(c));
  await p.close();
}
await b.close();
