// Preloaded into a deployment server (node --import) by the clock scenario: Date.now reads
// the wall clock plus the offset (ms) written in FAULTS_CLOCK_FILE, as after a clock jump.
// performance.now() is left alone: it is the monotonic clock durations should use.
import { readFileSync } from "node:fs";

const file = process.env.FAULTS_CLOCK_FILE;
if (file) {
  const realNow = Date.now.bind(Date);
  let offset = 0;
  const read = () => {
    try {
      offset = Number(readFileSync(file, "utf8")) || 0;
    } catch {
      offset = 0;
    }
  };
  read();
  setInterval(read, 20).unref();
  Date.now = () => realNow() + offset;
}
