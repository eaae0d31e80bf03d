// (e) A corrupted or truncated state database: the server must not crash-loop. It moves the
// unreadable file aside (kept, with its -wal and -shm), says so in server.log and in a note
// next to the bad copy, and starts with an empty database; apps are deployed again.
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Function_ } from "faasade";
import { deployment } from "faasade/local";
import { APP, deploymentHome, verdict } from "./lib.mjs";

const damage = {
  garbage: (file) => writeFileSync(file, randomBytes(statSync(file).size)),
  truncated: (file) => truncateSync(file, Math.floor(statSync(file).size / 2)),
};

export async function corruptDb({ name, how }) {
  const d = deploymentHome();
  const problems = [];
  const provider = deployment({ home: d.home });
  try {
    if ((await d.cli("deploy", APP)).code !== 0) throw new Error("deploy failed");
    const square = Function_.fromName("faults-local-app", "square", { provider });
    // Enough rows that half the file cuts through tables, not only free space.
    const calls = await Promise.all(Array.from({ length: 300 }, (_, i) => square.spawn(i)));
    await Promise.all(calls.map((c) => c.get()));
    await d.stop();
    const before = statSync(d.db).size;
    damage[how](d.db);
    const damaged = readFileSync(d.db);
    const t0 = performance.now();
    const started = await d.startServer();
    const startMs = performance.now() - t0;
    if (started.pid === undefined) {
      problems.push(`the server did not start: ${JSON.stringify(started)}; server.log ends:\n${d.log().slice(-1200)}`);
      return verdict(name, { runs: 1 }, problems);
    }
    const log = d.log();
    const bad = readdirSync(d.home).filter((f) => /^state\.db\.bad-[^.]*$/.test(f));
    if (!/is unreadable/.test(log) || !/moved aside/.test(log))
      problems.push(`server.log does not say the database was moved aside:\n${log.slice(-1200)}`);
    if (bad.length !== 1) problems.push(`expected one state.db.bad-* file, found ${bad.join(", ") || "none"}`);
    else if (!readFileSync(join(d.home, bad[0])).equals(damaged)) problems.push("the bad copy is not the damaged file as it was");
    else if (!readdirSync(d.home).includes(`${bad[0]}.txt`)) problems.push("no note next to the bad copy");
    const apps = JSON.parse((await d.cli("ls", "--json")).stdout || "null");
    if (!Array.isArray(apps) || apps.length !== 0) problems.push(`expected no apps after the move, got ${JSON.stringify(apps)}`);
    // The documented recovery: deploy again; calls work.
    if ((await d.cli("deploy", APP)).code !== 0) problems.push("deploying again failed");
    const value = await (await square.spawn(12)).get({ timeoutMs: 30_000 }).catch((e) => e);
    if (value !== 144) problems.push(`a call after redeploying: ${value?.message ?? value}`);
    // A second restart finds a good database: no second move.
    await d.stop();
    await d.startServer();
    const again = readdirSync(d.home).filter((f) => /^state\.db\.bad-[^.]*$/.test(f));
    if (again.length !== 1) problems.push(`a restart after recovery moved the database again (${again.length} bad copies)`);
    const line =
      d
        .log()
        .split("\n")
        .find((l) => /is unreadable/.test(l)) ?? "";
    console.log(`    server.log: ${line.slice(0, 300)}`);
    return verdict(name, { runs: 1, bytesBefore: before, crashLoops: 0, badCopies: bad.length, startMs }, problems);
  } finally {
    await d.stop();
    await provider.close();
  }
}
