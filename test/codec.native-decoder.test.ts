// The codec loads cbor-x's plain entry at import (no node:stream, no native addon: every container and
// cold start pays for what it imports), and cbor-extract's native string decoder at the first large
// decode, for the decodes after it. Run in a fresh process: a test worker may have loaded cbor-x whole.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const script = `
const { decode, encode } = await import("./dist/src/core/codec.js");
const cbor = await import("cbor-x/encode");
const loaded = () => process.moduleLoadList.some((m) => m === "NativeModule stream");
const out = { atImport: cbor.isNativeAccelerationEnabled, streamAtImport: loaded() };
decode(encode(["small"]));
await new Promise((r) => setTimeout(r, 100));
out.afterSmall = cbor.isNativeAccelerationEnabled;
const big = Array.from({ length: 2000 }, (_, i) => ({ name: "user-" + i, city: "Tōkyō" }));
const back = decode(encode(big));
await new Promise((r) => setTimeout(r, 200));
out.afterLarge = cbor.isNativeAccelerationEnabled;
out.sameAgain = JSON.stringify(decode(encode(big))) === JSON.stringify(big) && JSON.stringify(back) === JSON.stringify(big);
console.log(JSON.stringify(out));
`;

describe("the codec's native string decoder", () => {
  it("is not loaded at import nor by small decodes, and is by the first large one; results are the same", () => {
    const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
    expect(out).toEqual({ atImport: false, streamAtImport: false, afterSmall: false, afterLarge: true, sameAgain: true });
  });
});
