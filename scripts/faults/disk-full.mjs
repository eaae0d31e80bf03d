// (d) The disk filling while results are written: the server runs under a file-size limit
// (prlimit --fsize; Node ignores SIGXFSZ, so writes past it fail with EFBIG, as on a full disk).
// The server must stay up (no crash loop), say what happened (server.log, and the answer a
// caller gets), and once space is back, every acknowledged call gets its result.
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Function_, FunctionCall } from "faasade";
import { deployment } from "faasade/local";
import { APP, deploymentHome, procStat, sleep, verdict } from "./lib.mjs";

const RESULT_BYTES = 256 * 1024;
const LIMIT_BYTES = 3 * 1024 * 1024;

const setLimit = (pid, soft) => execFileSync("prlimit", ["--pid", String(pid), `--fsize=${soft}:unlimited`]);

/** A control API request straight to the server, to read what it answers (the ride-through client retries 5xx). */
async function raw(d, method, path, body) {
  const { port } = d.serverInfo();
  const token = readFileSync(join(d.home, "token"), "utf8").trim();
  const { pack, unpack } = await import("../../dist/src/providers/local/deploy/wire.js");
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/cbor" },
    body: body === undefined ? undefined : pack(body),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let message = "";
  try {
    message = unpack(bytes).error ?? "";
  } catch {
    message = Buffer.from(bytes).toString();
  }
  return { status: res.status, message };
}

export async function diskFull({ name, calls = 24 }) {
  const d = deploymentHome();
  const problems = [];
  const started = await d.startServer(["prlimit", "--fsize=unlimited:unlimited", "--"]);
  if (started.pid === undefined) return verdict(name, { runs: 1 }, [`the server did not start: ${JSON.stringify(started)}`]);
  const pid = started.pid;
  const provider = deployment({ home: d.home });
  try {
    const deployed = await d.cli("deploy", APP);
    if (deployed.code !== 0) throw new Error(`deploy failed: ${deployed.stderr}`);
    const blob = Function_.fromName("faults-local-app", "blob", { provider });
    // Room for the calls themselves, not for their results: each result is 256 KiB.
    const sizes = ["state.db", "state.db-wal", "server.log"].map((f) => {
      try {
        return statSync(join(d.home, f)).size;
      } catch {
        return 0;
      }
    });
    setLimit(pid, Math.max(LIMIT_BYTES, ...sizes.map((s) => s + 512 * 1024)));
    const acked = [];
    for (let k = 0; k < calls; k++) acked.push({ id: (await blob.spawn(RESULT_BYTES, k % 251)).objectId, fill: k % 251 });
    // Wait until the server reports that writes fail.
    const t0 = performance.now();
    while (!/is the disk full/.test(d.log()) && performance.now() - t0 < 30_000) await sleep(100);
    const failing = /is the disk full/.test(d.log());
    if (!failing) problems.push(`the server never said the disk is full; server.log ends:\n${d.log().slice(-1500)}`);
    // A new spawn now: the server answers 5xx naming the file and the cause (the client rides through it).
    const refusal = await raw(d, "POST", "/v1/fn/main/faults-local-app/blob/spawn", {
      input: { inputId: "in-diskfull-probe", callId: "fc-diskfull-probe", attempt: 1, args: new Uint8Array([0x80]) },
    });
    const refusalOk = refusal.status >= 500 && /state\.db/.test(refusal.message) && /disk full/.test(refusal.message);
    // The probe may have been stored (a row is small): then it is acknowledged like any other.
    if (refusal.status === 200) acked.push({ id: "fc-diskfull-probe", probe: true });
    else if (!refusalOk)
      problems.push(`a spawn while full got ${refusal.status} "${refusal.message}" (wanted a 5xx naming state.db and the disk)`);
    await sleep(2000);
    const alive = procStat(pid) !== undefined && procStat(pid).state !== "Z" && (await d.answers());
    if (!alive) problems.push(`the server died while the disk was full; server.log ends:\n${d.log().slice(-1500)}`);
    // Space comes back.
    setLimit(pid, "unlimited");
    const back = performance.now();
    let lost = 0;
    let wrong = 0;
    for (const call of acked) {
      try {
        const value = await FunctionCall.fromId(call.id, { provider }).get({ timeoutMs: 60_000 });
        if (call.probe) continue; // its argument bytes are not a real call's: any outcome will do
        if (!(value instanceof Uint8Array) || value.byteLength !== RESULT_BYTES || value.some((b) => b !== call.fill)) wrong++;
      } catch (err) {
        if (call.probe && err?.name !== "TimeoutError") continue;
        lost++;
        if (lost <= 3) problems.push(`call ${call.id}: ${err?.name}: ${err?.message}`);
      }
    }
    const recoverMs = performance.now() - back;
    if (lost > 0) problems.push(`${lost} acknowledged calls have no result once space is back`);
    if (wrong > 0) problems.push(`${wrong} results wrong`);
    const samePid = d.serverInfo()?.pid === pid;
    if (!samePid) problems.push("the server was replaced: it must ride out a full disk, not restart");
    if (!/takes writes again/.test(d.log()) && failing) problems.push("server.log does not say when writes work again");
    const logLine =
      d
        .log()
        .split("\n")
        .find((l) => /is the disk full/.test(l)) ?? "";
    console.log(`    server.log: ${logLine.slice(0, 240)}`);
    console.log(`    a spawn while full: ${refusal.status} ${refusal.message.slice(0, 200)}`);
    return verdict(
      name,
      {
        runs: 1,
        inputs: acked.length,
        lost,
        wrong,
        duplicated: 0,
        serverRestarts: samePid ? 0 : 1,
        recoverMs,
      },
      problems,
    );
  } finally {
    await d.stop();
    await provider.close();
  }
}
