// The codec loads cbor-x's native string decoder only when a decode is large enough to gain from
// it, so that no process pays for loading it at start. Each row runs a fresh Node process against
// the build (dist/), since a module once loaded stays loaded for the rest of a test process.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const CODEC = new URL("../dist/src/core/codec.js", import.meta.url).href;

function inFreshProcess(script: string): unknown {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  return JSON.parse(out);
}

const probe = (sizes: number[]) => `
import { decode, encode } from ${JSON.stringify(CODEC)};
import * as cbor from "cbor-x/encode";
const report = { atStart: cbor.isNativeAccelerationEnabled, decoded: [] };
for (const n of ${JSON.stringify(sizes)}) {
  const value = Array.from({ length: n }, (_, i) => ({ name: "item " + i, tag: "t" + (i % 7) }));
  const bytes = encode(value);
  const back = decode(bytes);
  report.decoded.push({ bytes: bytes.byteLength, same: JSON.stringify(back) === JSON.stringify(value) });
  await new Promise((r) => setTimeout(r, 200)); // the loading is not awaited by decode
}
report.atEnd = cbor.isNativeAccelerationEnabled;
console.log(JSON.stringify(report));
`;

describe("codec: cbor-x's native strings", { timeout: 30_000 }, () => {
  it("are not loaded at import, nor by small decodes", () => {
    const report = inFreshProcess(probe([1, 100])) as { atStart: boolean; atEnd: boolean; decoded: { bytes: number }[] };
    expect(report.decoded.every((d) => d.bytes < 64 * 1024)).toBe(true);
    expect(report).toMatchObject({ atStart: false, atEnd: false, decoded: [{ same: true }, { same: true }] });
  });

  it("are loaded by the first decode of 64 KB or more, and later decodes give the same values", () => {
    const report = inFreshProcess(probe([5000, 5000, 10])) as { decoded: { bytes: number }[] };
    expect(report.decoded[0]?.bytes).toBeGreaterThanOrEqual(64 * 1024);
    expect(report).toMatchObject({ atStart: false, atEnd: true, decoded: [{ same: true }, { same: true }, { same: true }] });
  });
});
