/** spawn returns a FunctionCall at once; get() waits, get({ timeoutMs: 0 }) polls; gather joins. */
import { App, FunctionCall, TimeoutError, gather } from "faasade";

export const app = new App("example-spawn");
export const job = app.function(
  async function job(id: number) {
    await new Promise((r) => setTimeout(r, 200));
    return `job ${id} done`;
  },
  { maxContainers: 3 },
);

app.localEntrypoint(async () => {
  const call = await job.spawn(1);
  try {
    await call.get({ timeoutMs: 0 });
  } catch (err) {
    if (err instanceof TimeoutError) console.log("still running:", call.objectId);
  }
  console.log(await FunctionCall.fromId<string>(call.objectId).get());
  console.log(await gather(await job.spawn(2), await job.spawn(3)));
});
