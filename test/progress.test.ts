import { describe, expect, it } from "vitest";
import { progress } from "../src/cli/progress.js";

const fakeStream = (isTTY: boolean) => {
  const written: string[] = [];
  const stream = { isTTY, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
};

/** What a transcript shows when the terminal's escape codes are dropped. */
const stripped = (written: string[]) => written.join("").replaceAll("\r", "").replaceAll("\x1b[2K", "");

describe("CLI progress", () => {
  it("draws nothing for work that ends at once", () => {
    const { stream, written } = fakeStream(true);
    const p = progress(stream);
    p.update("deploying app");
    p.done();
    expect(written).toEqual([]);
  });

  it("on longer work, draws one line and leaves the last step on a line of its own", async () => {
    const { stream, written } = fakeStream(true);
    const p = progress(stream);
    p.update("importing app.mjs");
    await new Promise((r) => setTimeout(r, 400));
    p.update("deploying app (2 functions)");
    p.done();
    p.done(); // a second done (a finally after the normal path) writes nothing more
    expect(written[0]?.startsWith("\r\x1b[2K")).toBe(true);
    expect(written.some((w) => /. importing app\.mjs$/.test(w))).toBe(true);
    expect(written.at(-1)).toBe("\r\x1b[2Kdeploying app (2 functions) (1 s)\n");
    // What the command prints next starts a line, with or without escape codes.
    expect(`${stripped(written)}deployed app`.split("\n").at(-1)).toBe("deployed app");
  });

  it("writes nothing when the stream is not a TTY, or when disabled (--json)", async () => {
    for (const [tty, enabled] of [
      [false, true],
      [true, false],
    ] as const) {
      const { stream, written } = fakeStream(tty);
      const p = progress(stream, enabled);
      p.update("x");
      await new Promise((r) => setTimeout(r, 300));
      p.update("y");
      p.done();
      expect(written).toEqual([]);
    }
  });
});
