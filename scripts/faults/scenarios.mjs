// The scenarios of `npm run faults`, in the order they run.
import { double, doublePrecise, doubleTimed, nap, napRetried, square } from "../../test/fixtures/faults-local-app.mjs";
import { clockInCaller, clockInDeployment } from "./clock.mjs";
import { hundredThousand, pruning } from "./load.mjs";
import { corruptDb } from "./corrupt-db.mjs";
import { diskFull } from "./disk-full.mjs";
import { killDuringMap, killDuringSpawns } from "./server-kill.mjs";
import { hangDuringMap, hangOne, hangWhileStarting } from "./hang.mjs";
import { killContainers } from "./kill-containers.mjs";

export const SCENARIOS = [
  {
    name: "a-kill-containers",
    what: "kill -9 of random containers during a 10 000-input map (fast pure function, starts not announced)",
    run: () => killContainers({ fn: double, fnName: "double", name: "a-kill-containers", precise: false }),
  },
  {
    name: "a-kill-containers-precise",
    what: "the same with every start announced (maxInputs 2): the running input must use an attempt",
    run: () => killContainers({ fn: doublePrecise, fnName: "doublePrecise", name: "a-kill-containers-precise", precise: true }),
  },
  {
    name: "b-hang-at-start",
    what: "SIGSTOP of a container as its call starts: killed at timeoutMs; FunctionTimeoutError if the start was announced, else a run elsewhere without using an attempt",
    run: () => hangOne({ fn: nap, name: "b-hang-at-start", retried: false }),
  },
  {
    name: "b-hang-timeout",
    what: "SIGSTOP of the container 300 ms into a call (timeoutMs 2 s, no retries): FunctionTimeoutError, the process is killed",
    run: () => hangOne({ fn: nap, name: "b-hang-timeout", retried: false, stopAfterMs: 300 }),
  },
  {
    name: "b-hang-retried",
    what: "the same with one retry: attempt 2 succeeds in another container",
    run: () => hangOne({ fn: napRetried, name: "b-hang-retried", retried: true, stopAfterMs: 300 }),
  },
  {
    name: "b-hang-map",
    what: "SIGSTOP of containers during a 2 000-input map (timeoutMs 2 s): every result right, the stopped ones killed",
    run: () => hangDuringMap({ fn: doubleTimed, fnName: "doubleTimed", name: "b-hang-map" }),
  },
  {
    name: "b-hang-starting",
    what: "SIGSTOP of a container while it starts (before it is ready), during a 500-input map: the map must finish",
    run: () => hangWhileStarting({ fn: square, fnName: "square", name: "b-hang-starting" }),
  },
  {
    name: "c-server-kill-spawns",
    what: "kill -9 of the deployment server during a burst of 2 000 spawns, then its restart",
    run: () => killDuringSpawns({ name: "c-server-kill-spawns" }),
  },
  {
    name: "c-server-kill-map",
    what: "kill -9 of the deployment server during a 5 000-input map (no retries), then its restart",
    run: () => killDuringMap({ name: "c-server-kill-map" }),
  },
  {
    name: "d-disk-full",
    what: "the server under a 3 MiB file-size limit while 24 results of 256 KiB are stored, then the limit lifted",
    run: () => diskFull({ name: "d-disk-full" }),
  },
  {
    name: "e-corrupt-db-garbage",
    what: "state.db overwritten with random bytes while the server is stopped, then a start",
    run: () => corruptDb({ name: "e-corrupt-db-garbage", how: "garbage" }),
  },
  {
    name: "e-corrupt-db-truncated",
    what: "state.db truncated to half its size while the server is stopped, then a start",
    run: () => corruptDb({ name: "e-corrupt-db-truncated", how: "truncated" }),
  },
  {
    name: "f-clock-caller",
    what: "Date.now jumping +1 h and -1 h in the caller while in-process calls run (timeoutMs 2 s)",
    run: () => clockInCaller({ name: "f-clock-caller", nap }),
  },
  {
    name: "f-clock-deployment",
    what: "Date.now jumping +1 h and -1 h in the deployment server during spawned calls, and in a caller waiting in get",
    run: () => clockInDeployment({ name: "f-clock-deployment" }),
  },
  {
    name: "g-pruning",
    what: "4 rounds of 1 500 spawns with FAASADE_RESULT_RETENTION_MS=2000: rows go back to 0, the files stay bounded",
    run: () => pruning({ name: "g-pruning" }),
  },
  {
    name: "h-100k-spawns",
    what: "100 000 spawned inputs on a local deployment (64 at a time), every result read back (FAULTS_SPAWNS to change)",
    limitS: 1800,
    run: () => hundredThousand({ name: "h-100k-spawns" }),
  },
];
