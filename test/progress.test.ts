import { describe, expect, it } from "vitest";
import { progress } from "../src/cli/progress.js";

const fakeStream = (isTTY: boolean) => {
  const written: string[] = [];
  const stream = { isTTY, write: (s: string) => written.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, written };
};

describe("CLI progress", () => {
  it("draws and clears one line on a TTY", () => {
    const { stream, written } = fakeStream(true);
    const p = progress(stream);
    p.update("deploying app");
    p.done();
    expect(written[0]?.startsWith("\r\x1b[2K")).toBe(true);
    expect(written[0]).toMatch(/. deploying app$/);
    expect(written.at(-1)).toBe("\r\x1b[2K");
  });

  it("writes nothing when the stream is not a TTY, or when disabled (--json)", () => {
    for (const [tty, enabled] of [
      [false, true],
      [true, false],
    ] as const) {
      const { stream, written } = fakeStream(tty);
      const p = progress(stream, enabled);
      p.update("x");
      p.done();
      expect(written).toEqual([]);
    }
  });
});
