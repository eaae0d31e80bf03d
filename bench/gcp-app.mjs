// The app the Google Cloud benchmark deploys to startTestBackend("gcp"): instances (processes
// of the Cloud Functions test host under functions-framework) import this module, so it only
// defines functions. Two instances of 32 inputs each: Cloud Tasks dispatches 64 at a time.
import { App } from "faasade";

export const app = new App("bench-gcp");
export const square = app.function(
  function square(x) {
    return x * x;
  },
  { maxContainers: 2, maxInputs: 32 },
);
export const sleep = app.function(async function sleep(ms) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});
