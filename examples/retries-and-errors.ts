/** Retries with backoff, currentInput().attempt, and how errors arrive. */
import { App, FunctionTimeoutError, Retries, UserCodeError, currentInput } from "faasade";

export const app = new App("example-retries");
export const flaky = app.function(
  function flaky() {
    const attempt = currentInput()?.attempt ?? 0;
    if (attempt < 3) throw Object.assign(new Error(`attempt ${attempt} failed`), { code: "E_FLAKY" });
    return `succeeded on attempt ${attempt}`;
  },
  { retries: new Retries({ maxRetries: 3, initialDelayMs: 50, backoffCoefficient: 2 }) },
);
export const broken = app.function(function broken() {
  throw new RangeError("out of range");
});
export const slow = app.function(
  async function slow() {
    await new Promise((r) => setTimeout(r, 5_000));
  },
  { timeoutMs: 1_000 },
);

app.localEntrypoint(async () => {
  console.log(await flaky.remote());
  try {
    await broken.remote();
  } catch (err) {
    if (err instanceof UserCodeError) console.log(err.message, "| cause is a", (err.cause as Error).constructor.name);
  }
  try {
    await slow.remote();
  } catch (err) {
    if (err instanceof FunctionTimeoutError) console.log("timed out:", err.message);
  }
});
