// Map throughput through faasade against raw platform calls at the same concurrency, for the cloud
// benches (aws.mjs, gcp.mjs, azure.mjs): the same inputs, every result of both sides checked in order.
import { Agent, request } from "node:http";
import { decode } from "faasade";

/** Inputs per map, and the square each must come back as. */
export const MAP_INPUTS = 3_000;
const xsOf = (n) => Array.from({ length: n }, (_, i) => i);

/** This process's CPU time since `from` (a `process.cpuUsage()`), in µs per input of `xs`. */
const cpuPerCall = (from, xs) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / xs.length;
};

/** One faasade map of `xs`, checked: the i-th result must be xs[i]², in order. Calls per second, and CPU. */
async function timeMap(map, xs) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let i = 0;
  for await (const r of map(xs)) {
    if (r !== xs[i] * xs[i]) throw new Error(`map: result ${i} is ${JSON.stringify(r)}, not ${xs[i] * xs[i]}`);
    i++;
  }
  const ms = performance.now() - start;
  if (i !== xs.length) throw new Error(`map: ${i} results for ${xs.length} inputs`);
  return { rate: xs.length / (ms / 1000), cpu: cpuPerCall(cpu, xs) };
}

/** `raw(x, i, round)` for every input with `concurrency` calls in flight at once, each decoded value checked. Calls per second, and CPU. */
async function timeRaw(raw, xs, concurrency, round) {
  const cpu = process.cpuUsage();
  const results = new Array(xs.length);
  let next = 0;
  const worker = async () => {
    while (next < xs.length) {
      const i = next++;
      results[i] = await raw(xs[i], i, round);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - start;
  for (const [i, r] of results.entries()) {
    if (r !== xs[i] * xs[i]) throw new Error(`raw: result ${i} is ${JSON.stringify(r)}, not ${xs[i] * xs[i]}`);
  }
  return { rate: xs.length / (ms / 1000), cpu: cpuPerCall(cpu, xs) };
}

export const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * `warmups` rounds then `rounds` measured rounds, each one map of MAP_INPUTS through faasade and the
 * same inputs through `raw` with `concurrency` in flight, the side that goes first alternating from
 * round to round (warm-ups included). Throughputs per round and their medians. The figure is the median of
 * the rounds' ratios: the two sides of a round run back to back, so a burst of other work on the machine hits
 * both alike, where it can sink one side's median alone; the ratio of the medians is kept beside it.
 * This process's CPU per input is kept beside them, as context.
 * The function's `numRunningInputs` is sampled during the warm-ups' maps (not timed): the most calls faasade had in flight.
 * `alsoRaw`, when given, is a second raw client timed in every round after the two sides: context, not judged.
 */
export async function mapVsRaw({ fn, raw, alsoRaw, concurrency, rounds = 5, warmups = 2 }) {
  const map = (inputs) => fn.map(inputs);
  const inFlight = async () => (await fn.getCurrentStats()).numRunningInputs;
  const xs = xsOf(MAP_INPUTS);
  const faasadeRounds = [];
  const rawRounds = [];
  const faasadeCpu = [];
  const rawCpu = [];
  const alsoRounds = [];
  let inFlightPeak;
  const watched = async () => {
    let busy = true;
    const peak = peakOf(inFlight, () => busy);
    const timed = await timeMap(map, xs).finally(() => {
      busy = false;
    });
    inFlightPeak = Math.max(inFlightPeak ?? 0, await peak);
    return timed;
  };
  for (let round = 0; round < warmups + rounds; round++) {
    const warm = round < warmups;
    const viaMap = async () => {
      const { rate, cpu } = warm && inFlight ? await watched() : await timeMap(map, xs);
      if (warm) return;
      faasadeRounds.push(rate);
      faasadeCpu.push(cpu);
    };
    const viaRaw = async () => {
      const { rate, cpu } = await timeRaw(raw, xs, concurrency, round);
      if (warm) return;
      rawRounds.push(rate);
      rawCpu.push(cpu);
    };
    if (round % 2 === 0) {
      await viaMap();
      await viaRaw();
    } else {
      await viaRaw();
      await viaMap();
    }
    if (alsoRaw !== undefined) {
      const { rate } = await timeRaw(alsoRaw, xs, concurrency, round + 100);
      if (!warm) alsoRounds.push(rate);
    }
  }
  const fa = median(faasadeRounds);
  const rw = median(rawRounds);
  const ratioRounds = faasadeRounds.map((f, i) => f / rawRounds[i]);
  const alsoRatioRounds = faasadeRounds.map((f, i) => f / alsoRounds[i]);
  return {
    inputs: MAP_INPUTS,
    concurrency,
    warmups,
    inFlightPeak,
    faasadePerSec: Math.round(fa),
    rawPerSec: Math.round(rw),
    ratio: median(ratioRounds),
    ratioOfMedians: fa / rw,
    faasadeRounds: faasadeRounds.map(Math.round),
    rawRounds: rawRounds.map(Math.round),
    ratioRounds,
    // Context: this process's CPU per input (the client's, and the stand-in's parts that run in this process).
    faasadeCpuUsPerCall: Math.round(median(faasadeCpu)),
    rawCpuUsPerCall: Math.round(median(rawCpu)),
    ...(alsoRaw === undefined
      ? {}
      : {
          alsoRawPerSec: Math.round(median(alsoRounds)),
          alsoRawRounds: alsoRounds.map(Math.round),
          alsoRatio: median(alsoRatioRounds),
          alsoRatioRounds,
        }),
  };
}

/** While `busy()` holds, samples `count()` every `everyMs`; resolves with the largest value seen. */
async function peakOf(count, busy, everyMs = 100) {
  let peak = 0;
  while (busy()) {
    peak = Math.max(peak, await count());
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return peak;
}

/** A raw POST's answer: the decoded result, or an error naming the answer. */
function resultOf(status, text) {
  const answer = JSON.parse(text);
  if (status !== 200 || answer.status !== "SUCCESS") throw new Error(`the raw POST answered ${status} ${answer.status}`);
  return decode(Buffer.from(answer.value, "base64"));
}

/** A raw POST of an envelope to a function's URL (gcp, azure) with `fetch`, as a hand-written client sends it. */
async function postEnvelope(url, headers, envelope) {
  const res = await fetch(url, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(envelope),
  });
  return resultOf(res.status, await res.text());
}

const keepAlive = new Agent({ keepAlive: true });

/**
 * The same POST over node:http with a keep-alive agent, the client faasade's invoker uses
 * (src/cloud/http-post.ts): context beside the judged fetch baseline, so that what faasade adds over
 * the cheapest raw client shows too.
 */
function postEnvelopeHttp(url, headers, envelope) {
  const body = JSON.stringify(envelope);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      agent: keepAlive,
      headers: {
        ...headers,
        "content-type": "application/json",
        accept: "application/json",
        "content-length": Buffer.byteLength(body),
      },
    });
    req.once("error", reject);
    req.once("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.once("error", reject);
      res.once("end", () => {
        try {
          resolve(resultOf(res.statusCode, text));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.end(body);
  });
}

/**
 * The raw sides of a POST cloud's map pair (gcp, azure), for `mapVsRaw`: `raw` with fetch (judged) and
 * `alsoRaw` over node:http (context), each input's ids tagged per side and round.
 */
export function postSides(url, headers, envelope) {
  const by = (post, tag) => (x, i, round) =>
    post(url, headers, { ...envelope(x), inputId: `in-${tag}-${round}-${i}`, callId: `fc-${tag}-${round}` });
  return { raw: by(postEnvelope, "rawmap"), alsoRaw: by(postEnvelopeHttp, "rawhttp") };
}
