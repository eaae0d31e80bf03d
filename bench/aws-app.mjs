// The app the AWS benchmark deploys to startTestBackend("aws"): containers (Lambda environments
// of the test host) import this module, so it only defines functions.
import { App } from "faasade";

export const app = new App("bench-aws");
export const square = app.function(function square(x) {
  return x * x;
});
export const sleep = app.function(async function sleep(ms) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});
