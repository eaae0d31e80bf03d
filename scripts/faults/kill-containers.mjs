// (a) kill -9 of random containers during a 10 000-input map of a pure function, in-process
// app on the local provider (maxContainers 4, 4 retries). Every result must be right and in
// order, and attempts counted honestly: an input is charged an attempt only for a start in a
// killed container, and (where the container announces its starts) exactly for the input it
// was running when it was killed.
import { containers, groupBy, sleep, startsSince, verdict, wallNow } from "./lib.mjs";

export async function killContainers({ fn, fnName, name, inputs = 10_000, kills = 5, precise = false }) {
  const since = wallNow();
  process.env.FAULTS_SPIN_MS = "0.4";
  const killed = new Map(); // pid → when
  let done = false;
  const t0 = performance.now();
  const killer = (async () => {
    await sleep(400);
    while (!done && killed.size < kills) {
      const live = containers(process.pid, fnName).filter((c) => !killed.has(c.pid) && c.state !== "Z");
      const victim = live[Math.floor(Math.random() * live.length)];
      if (victim !== undefined && startsSince(since).some((s) => s.pid === victim.pid)) {
        killed.set(victim.pid, wallNow());
        process.kill(victim.pid, "SIGKILL");
      }
      await sleep(250 + Math.random() * 250);
    }
  })();
  const problems = [];
  const results = [];
  try {
    for await (const r of fn.map(Array.from({ length: inputs }, (_, i) => i))) results.push(r);
  } catch (err) {
    problems.push(`the map rejected: ${err?.name}: ${err?.message}`);
  }
  done = true;
  await killer;
  const ms = performance.now() - t0;

  let wrong = 0;
  for (let i = 0; i < inputs; i++) if (results[i]?.y !== i * 2) wrong++;
  const lost = inputs - results.length;
  if (lost > 0) problems.push(`${lost} inputs lost`);
  if (wrong > 0) problems.push(`${wrong} results wrong or out of order`);
  if (killed.size < 3) problems.push(`only ${killed.size} kills landed (wanted ≥ 3): the map ended too soon`);

  // Starts by input id, in time order. The map's inputs are its own: every start in the log.
  const starts = startsSince(since).sort((a, b) => a.at - b.at);
  const byInput = groupBy(starts, (s) => s.inputId);
  const lastStartIn = new Map(); // killed pid → the input it started last (running, or finished and unreported)
  for (const s of starts) if (killed.has(s.pid)) lastStartIn.set(s.pid, s.inputId);
  let duplicated = 0;
  let charged = 0;
  let chargedUnrecorded = 0;
  let recoverMs = 0;
  const finalAttempt = new Map();
  if (byInput.size !== inputs && lost === 0) problems.push(`${byInput.size} inputs recorded a start, expected ${inputs}`);
  for (const [inputId, list] of byInput) {
    const last = list[list.length - 1];
    const earlier = list.slice(0, -1);
    finalAttempt.set(inputId, last.attempt);
    duplicated += earlier.length;
    const inLive = earlier.filter((s) => !killed.has(s.pid));
    if (inLive.length > 0)
      problems.push(`input ${inputId} ran ${list.length} times, ${inLive.length} of them in a container that was not killed`);
    const used = last.attempt - 1;
    charged += used;
    const killedStarts = earlier.filter((s) => killed.has(s.pid)).length;
    // A kill between the start's announcement and the fixture's log write charges an unrecorded start.
    if (used > killedStarts) chargedUnrecorded += used - killedStarts;
    for (const s of earlier) if (killed.has(s.pid)) recoverMs = Math.max(recoverMs, last.at - killed.get(s.pid));
  }
  if (chargedUnrecorded > killed.size) {
    problems.push(
      `${chargedUnrecorded} attempts charged without a start in a killed container (at most one per kill is a start announced but not yet logged)`,
    );
  }
  // Each kill that hit an input mid-run (its last start there ran again elsewhere) must use one attempt (API.md).
  const hits = [...lastStartIn.values()].filter((id) => (byInput.get(id)?.length ?? 0) > 1).length;
  if (charged < hits) {
    problems.push(
      `${hits} kills hit a running input but only ${charged} attempts were used (API.md: inputs running in a dead container fail that attempt)${precise ? "" : "; this container does not announce starts, so the parent does not know which input ran (container.ts onExit)"}`,
    );
  }
  if (charged > hits + chargedUnrecorded) problems.push(`${charged} attempts used for ${hits} kills that hit a running input`);
  const attemptsInResults = results.reduce((n, r) => n + (r?.attempt ?? 0), 0);
  const attemptsInLog = [...finalAttempt.values()].reduce((n, a) => n + a, 0);
  if (lost === 0 && attemptsInResults !== attemptsInLog) {
    problems.push(`results say ${attemptsInResults} attempts in all, the starts log ${attemptsInLog}`);
  }
  return verdict(
    name,
    {
      runs: 1,
      inputs,
      kills: killed.size,
      lost,
      wrong,
      duplicated,
      attemptsUsed: charged,
      hitRunning: [...lastStartIn.values()].filter((id) => (byInput.get(id)?.length ?? 0) > 1).length,
      chargedUnrecorded,
      recoverMsMax: recoverMs,
      ms,
    },
    problems,
  );
}
