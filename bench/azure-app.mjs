// The app the Azure benchmark deploys to startTestBackend("azure"): instances (processes of the
// Functions host stand-in, under the real @azure/functions) import this module, so it only defines
// functions. Two instances of 32 inputs each (the host's queue batch is min(32, maxInputs)).
// `square` sets timeoutMs 60 000: a function whose timeoutMs is over 220 s (the default 300 s
// included) goes through the queue on Azure even for `remote`, and the benchmark measures the HTTP path.
import { App } from "faasade";

export const app = new App("bench-azure");
export const square = app.function(
  function square(x) {
    return x * x;
  },
  { maxContainers: 2, maxInputs: 32, timeoutMs: 60_000 },
);
export const sleep = app.function(async function sleep(ms) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});
