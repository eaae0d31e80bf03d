// Raw worker_threads baseline, worker side: one postMessage in, one out, per call.
// The function name comes as workerData; messages are [id, x] -> [id, result].
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const fn = require("./funcs.cjs")[workerData];
parentPort.on("message", (m) => {
  parentPort.postMessage([m[0], fn(m[1])]);
});
