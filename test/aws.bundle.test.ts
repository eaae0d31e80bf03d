// Bundling an app for Lambda: the zip runs on its own, names survive, native addons are
// installed for Lambda's platform, and the same code gives the same zip.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { encode } from "faasade";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { bundle } from "../src/providers/aws/deploy/bundle.js";

describe("aws deploy: bundle", { timeout: 60_000 }, () => {
  it("makes a deterministic zip whose handler runs the app's functions by their own names", async () => {
    const first = await bundle({ module: "test/fixtures/aws-app.mjs", architecture: "arm64" });
    const again = await bundle({ module: "test/fixtures/aws-app.mjs", architecture: "arm64" });
    expect(again.hash).toBe(first.hash);
    const files = unzipSync(first.zip);
    expect(Object.keys(files)).toContain("index.mjs");
    // cbor-x's optional native helper is installed for linux/arm64, not bundled.
    expect(first.installed).toContain("cbor-extract");
    expect(Object.keys(files).some((f) => f.startsWith("node_modules/@cbor-extract/cbor-extract-linux-arm64/"))).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), "faasade-lambda-"));
    for (const [path, bytes] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    }
    const event = {
      v: 1,
      app: "aws-app",
      env: "main",
      fn: "square",
      inputId: "in-b-1",
      callId: "fc-b-1",
      attempt: 1,
      args: Buffer.from(encode([12], "args")).toString("base64"),
    };
    const out = execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import("./index.mjs"); console.log(JSON.stringify(await m.handler(${JSON.stringify(event)})));`,
      ],
      { cwd: dir, env: { PATH: process.env.PATH ?? "" } },
    );
    const answer = JSON.parse(out.toString()) as { status: string; value: string };
    expect(answer.status).toBe("SUCCESS");
    expect(Buffer.from(answer.value, "base64")).toEqual(Buffer.from(encode(144, "result")));
  });
});
