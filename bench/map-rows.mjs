// The cloud benches' judged side-by-side rows of bench/run.mjs, the same for aws, gcp and azure: map
// throughput (bench/map-vs-raw.mjs), also as lines of a provider's section of docs/benchmarks.md, and
// the sequential `remote` p50 (bench/latency.mjs).

const fmtInt = (x) => (x === undefined ? "n/a" : Math.round(x).toLocaleString("en-US"));
const ratio = (x) => (x === undefined ? "n/a" : `${x.toFixed(2)}×`);

/** The ratio row: faasade's map throughput over the raw calls', ≥ 0.9× (issue 16). */
export function mapRow(provider, run, raw) {
  const m = run?.map;
  return {
    name: `${provider}: 3 000-input \`map\` throughput / raw ${raw} throughput (${m?.concurrency ?? "n/a"} in flight each, same stand-in, every result checked; median of the ratios of ${m?.faasadeRounds?.length ?? "n/a"} interleaved rounds)`,
    value: m?.ratio,
    perRep: m?.ratioRounds ?? [],
    unit: "×",
    target: "≥ 0.9×",
    pass: (v) => v >= 0.9,
  };
}

/** What each cloud's context side is (bench/map-vs-raw.mjs `alsoRaw`): the raw client set up as faasade's own. */
const HTTP_POST =
  "raw POST over node:http with a keep-alive agent (context: the client faasade's invoker uses, against the judged fetch";
const ALSO_RAW = {
  aws: "raw InvokeCommand from a client with `cacheMiddleware: true`, as faasade's (context, against the judged default client",
  gcp: HTTP_POST,
  azure: HTTP_POST,
};

/** Context: faasade's map throughput over the same calls from a raw client set up as faasade's own. */
export function mapAlsoRow(provider, run) {
  const m = run?.map;
  return {
    name: `${provider}: 3 000-input \`map\` throughput / ${ALSO_RAW[provider]}; median of the ratios of ${m?.alsoRatioRounds?.length ?? "n/a"} rounds)`,
    value: m?.alsoRatio,
    perRep: m?.alsoRatioRounds ?? [],
    unit: "×",
    target: "(context)",
  };
}

/** The `remote` row: faasade's p50 over the raw call's, ≤ 1.2× (issue 16), judged like the map row (bench/latency.mjs). */
export function remoteRow(provider, run, raw, setting) {
  const perRep = run?.remoteRatioRounds ?? [];
  return {
    name: `${provider}: \`remote\` p50 / raw ${raw} p50 (${setting}; median of the ratios of ${perRep.length} interleaved rounds)`,
    value: run?.remoteRatio,
    perRep,
    unit: "×",
    target: "≤ 1.2×",
    pass: (v) => v <= 1.2,
  };
}

/** Table rows for the provider's section ("| measurement | value |"). */
export function mapTableLines(run, raw) {
  const m = run?.map;
  return [
    `| 3 000-input \`map\` of \`x*x\` through faasade (invokes, ${m?.concurrency ?? "n/a"} in flight), median of ${m?.faasadeRounds?.length ?? "n/a"} rounds | ${fmtInt(m?.faasadePerSec)} calls/s |`,
    `| the same 3 000 inputs as raw ${raw}s, ${m?.concurrency ?? "n/a"} in flight, median | ${fmtInt(m?.rawPerSec)} calls/s |`,
  ].join("\n");
}

/** A note on the map rounds, for the provider's section. */
export function mapNote(run, raw) {
  const m = run?.map;
  if (m === undefined) return "- The map-throughput pair did not run.";
  return `- Map throughput per round (calls/s), faasade: ${m.faasadeRounds.map(fmtInt).join(", ")}; raw ${raw}:
  ${m.rawRounds.map(fmtInt).join(", ")}; ratio per round: ${m.ratioRounds.map(ratio).join(", ")} (the figure is their median;
  the ratio of the two medians: ${ratio(m.ratioOfMedians)}). ${m.warmups} warm-up
  rounds of the same work first; the side that goes first alternates. The map takes the invoke path (the provider's
  default \`fanOutFrom\` is never), at most \`maxInFlight\` (${m.concurrency}) calls at once; the raw side keeps
  the same number in flight. Most calls faasade had in flight, sampled during the warm-ups (\`getCurrentStats\`):
  ${fmtInt(m.inFlightPeak)}. Every result of both sides is decoded and checked (\`r === x*x\`, in order for the map).${
    m.alsoRawRounds === undefined
      ? ""
      : `
- Context, after both sides in each round: the same calls from a raw client set up as faasade's own (see
  the context row): ${m.alsoRawRounds.map(fmtInt).join(", ")} calls/s; faasade's map over it per round:
  ${m.alsoRatioRounds.map(ratio).join(", ")}.`
  }`;
}
