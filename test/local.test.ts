import { describe, expect, it } from "vitest";
import { app, napPid } from "./fixtures/pid-app.mjs";

describe("local provider pools", () => {
  it("spreads slow inputs over containers instead of queueing them behind the first", async () => {
    const pids: number[] = [];
    for await (const pid of napPid.map(Array(8).fill(200))) pids.push(pid);
    expect(new Set(pids).size).toBeGreaterThan(1);
    expect(pids).not.toContain(process.pid);
    await app.close();
  });
});
