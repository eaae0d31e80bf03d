// Raw child_process.fork baseline, container side: one IPC message in, one out, per call.
// The function name comes as argv[2]; messages are [id, x] -> [id, result].
"use strict";
const fn = require("./funcs.cjs")[process.argv[2]];
process.on("message", (m) => {
  process.send([m[0], fn(m[1])]);
});
