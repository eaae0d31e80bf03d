// (f) The clock jumping an hour forward or back, in the caller and in the deployment server,
// while calls run: no input may time out early because of the jump, and no wait may become
// endless. Date.now is overridden (the wall clock plus an offset); performance.now() is not.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Function_ } from "faasade";
import { deployment } from "faasade/local";
import { APP, ROOT, deploymentHome, sleep, verdict } from "./lib.mjs";

const HOUR = 3600_000;
const realNow = Date.now.bind(Date);

/** Jumps this process's Date.now by `offset` ms after `afterMs`; `restore()` puts it back. */
function jumpHere(offset, afterMs) {
  const timer = setTimeout(() => {
    Date.now = () => realNow() + offset;
  }, afterMs);
  return () => {
    clearTimeout(timer);
    Date.now = realNow;
  };
}

/** Runs `call` and says how it ended and after how long. */
async function timed(call) {
  const t0 = performance.now();
  try {
    return { value: await call(), ms: performance.now() - t0 };
  } catch (err) {
    return { error: err, ms: performance.now() - t0 };
  }
}

const describe = (r) => (r.error ? `${r.error.name}: ${r.error.message}` : JSON.stringify(r.value));

/**
 * In-process (the caller's pools): a 1.5 s call of a 2 s-timeout function must succeed when
 * the clock jumps forward mid-call; a 5 s call must time out at about 2 s when it jumps back.
 */
export async function clockInCaller({ name, nap }) {
  const problems = [];
  await nap.remote(10); // a warm container: the jump lands in the call, not in a cold start
  let restore = jumpHere(HOUR, 300);
  const forward = await timed(() => nap.remote(1500));
  restore();
  if (forward.error)
    problems.push(`clock +1 h during a 1.5 s call (timeoutMs 2 s): ${describe(forward)} after ${forward.ms.toFixed(0)} ms`);
  // The clock stays an hour ahead (an NTP correction): calls made after it, on containers started before it.
  Date.now = () => realNow() + HOUR;
  const after = await timed(() => nap.remote(1500));
  Date.now = realNow;
  if (after.error)
    problems.push(
      `a 1.5 s call (timeoutMs 2 s) made after the clock moved +1 h: ${describe(after)} after ${after.ms.toFixed(0)} ms`,
    );
  // Last: a jump back leaves a container's watchdog set an hour out, which would hide the cases above.
  restore = jumpHere(-HOUR, 300);
  const back = await Promise.race([timed(() => nap.remote(5000)), sleep(20_000).then(() => ({ hung: true, ms: 20_000 }))]);
  restore();
  if (back.hung) problems.push("clock -1 h during a 5 s call (timeoutMs 2 s): no answer within 20 s");
  else if (back.error?.name !== "FunctionTimeoutError" || back.ms > 6000) {
    problems.push(
      `clock -1 h during a 5 s call (timeoutMs 2 s): ${describe(back)} after ${back.ms.toFixed(0)} ms (wanted FunctionTimeoutError at ~2 s)`,
    );
  }
  return verdict(name, { runs: 3, inputs: 3, forwardMs: forward.ms, backMs: back.ms, afterForwardMs: after.ms }, problems);
}

/**
 * A deployment whose server's clock jumps (preloaded clock-preload.mjs), and a caller whose
 * clock jumps while it waits in FunctionCall.get({ timeoutMs }).
 */
export async function clockInDeployment({ name }) {
  const d = deploymentHome();
  const clockFile = join(d.home, "clock-offset");
  writeFileSync(clockFile, "0");
  d.env.FAULTS_CLOCK_FILE = clockFile;
  const problems = [];
  const provider = deployment({ home: d.home });
  try {
    const started = await d.startServer([], ["--import", join(ROOT, "scripts/faults/clock-preload.mjs")]);
    if (started.pid === undefined) throw new Error(`the server did not start: ${JSON.stringify(started)}`);
    if ((await d.cli("deploy", APP)).code !== 0) throw new Error("deploy failed");
    const nap = Function_.fromName("faults-local-app", "nap", { provider });
    await (await nap.spawn(10)).get();
    const jumpServer = (offset, afterMs) => setTimeout(() => writeFileSync(clockFile, String(offset)), afterMs);

    jumpServer(HOUR, 300);
    const fwd = await timed(async () => (await nap.spawn(1500)).get({ timeoutMs: 30_000 }));
    writeFileSync(clockFile, "0");
    if (fwd.error)
      problems.push(
        `server clock +1 h during a spawned 1.5 s call (timeoutMs 2 s): ${describe(fwd)} after ${fwd.ms.toFixed(0)} ms`,
      );
    await sleep(200);

    // The server's clock stays an hour ahead: a call made after the jump, on a container started before it.
    writeFileSync(clockFile, String(HOUR));
    await sleep(200);
    const after = await timed(async () => (await nap.spawn(1500)).get({ timeoutMs: 30_000 }));
    writeFileSync(clockFile, "0");
    if (after.error)
      problems.push(
        `a spawned 1.5 s call (timeoutMs 2 s) made after the server's clock moved +1 h: ${describe(after)} after ${after.ms.toFixed(0)} ms`,
      );

    jumpServer(-HOUR, 300);
    const back = await timed(async () => (await nap.spawn(5000)).get({ timeoutMs: 30_000 }));
    writeFileSync(clockFile, "0");
    if (back.error?.name !== "FunctionTimeoutError" || back.ms > 8000) {
      problems.push(
        `server clock -1 h during a spawned 5 s call (timeoutMs 2 s): ${describe(back)} after ${back.ms.toFixed(0)} ms (wanted FunctionTimeoutError at ~2 s)`,
      );
    }

    // The caller's clock: get({ timeoutMs: 10 s }) of a 1.5 s call, the clock jumping +1 h while it waits.
    const call = await nap.spawn(1500);
    let restore = jumpHere(HOUR, 200);
    const wait = await timed(() => call.get({ timeoutMs: 10_000 }));
    restore();
    if (wait.error)
      problems.push(
        `caller clock +1 h during get({ timeoutMs: 10 s }) of a 1.5 s call: ${describe(wait)} after ${wait.ms.toFixed(0)} ms`,
      );
    // And back: get({ timeoutMs: 1.5 s }) of a 5 s call must give up at about 1.5 s, not an hour later.
    const slow = await nap.spawn(1900);
    restore = jumpHere(-HOUR, 200);
    const giveUp = await Promise.race([
      timed(() => slow.get({ timeoutMs: 1000 })),
      sleep(15_000).then(() => ({ hung: true, ms: 15_000 })),
    ]);
    restore();
    if (giveUp.hung) problems.push("caller clock -1 h during get({ timeoutMs: 1 s }): no answer within 15 s");
    else if (giveUp.error?.name !== "TimeoutError" || giveUp.ms > 5000) {
      problems.push(
        `caller clock -1 h during get({ timeoutMs: 1 s }) of a 1.9 s call: ${describe(giveUp)} after ${giveUp.ms.toFixed(0)} ms (wanted TimeoutError at ~1 s)`,
      );
    }
    return verdict(
      name,
      {
        runs: 5,
        inputs: 5,
        serverForwardMs: fwd.ms,
        serverBackMs: back.ms,
        serverAfterForwardMs: after.ms,
        callerForwardMs: wait.ms,
        callerBackMs: giveUp.ms,
      },
      problems,
    );
  } finally {
    writeFileSync(clockFile, "0");
    await d.stop();
    await provider.close();
  }
}
