import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RemoteError } from "faasade";
import { SPILL_BYTES } from "../src/providers/local/spill.js";
import { app, echo, forge } from "./fixtures/wire-app.mjs";

/** The wire directories this process made. */
const wireDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`faasade-wire-${process.pid}-`));
/** The files left in them. */
const leftovers = () => wireDirs().flatMap((name) => readdirSync(join(tmpdir(), name)));

describe("local provider: the container wire", () => {
  afterAll(async () => {
    await app.close();
    // The process removes its directory when it exits; vitest may end this worker with a signal.
    for (const name of wireDirs()) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  });

  it("carries bytes above the spill size both ways through files it removes", async () => {
    // A directory left by a parent killed with kill -9 (its exit handler never ran), and a live one.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    const stale = join(tmpdir(), `faasade-wire-${dead}-0badc0ffee00`);
    const live = join(tmpdir(), `faasade-wire-${process.ppid}-0000c0ffee00`);
    for (const dir of [stale, live]) {
      mkdirSync(dir, { mode: 0o700, recursive: true });
      writeFileSync(join(dir, "left-1"), "payload");
    }
    expect(await echo.remote(new Uint8Array([1, 2, 3]))).toEqual(new Uint8Array([1, 2, 3]));
    expect(wireDirs()).toEqual([]); // no large payload yet: nothing on disk
    const bytes = new Uint8Array(SPILL_BYTES * 3 + 5).map((_, i) => i % 251);
    const back = await echo.remote(bytes);
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(back, bytes)).toBe(0);
    expect(wireDirs()).toHaveLength(1);
    expect(statSync(join(tmpdir(), wireDirs()[0] as string)).mode & 0o777).toBe(0o700);
    expect(leftovers()).toEqual([]);
    expect(existsSync(stale)).toBe(false); // swept when this process first spilled
    expect(existsSync(join(live, "left-1"))).toBe(true); // its process is alive: left alone
    rmSync(live, { recursive: true, force: true });
  });

  it("a container that forges a message naming a file elsewhere fails its input; the file stays", async () => {
    const outside = join(mkdtempSync(join(tmpdir(), "faasade-outside-")), "keep");
    writeFileSync(outside, "x");
    const err = await forge.remote(outside).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as Error).message).toMatch(/container sent a message faasade cannot read \(not a wire file/);
    expect(existsSync(outside)).toBe(true);
    expect(await echo.remote(new Uint8Array([9]))).toEqual(new Uint8Array([9])); // a new container serves
  });
});
