// A function whose module fails to import where it runs: every call and spawn ends with
// RemoteError (INIT_FAILURE) naming the import error, on every provider, and none hangs.
import { Function_, RemoteError } from "faasade";
import { startTestBackend } from "faasade/testing";
import { afterAll, describe, expect, it } from "vitest";
import { app, work } from "./fixtures/import-fails-app.mjs";

const backend = await startTestBackend("aws", { module: new URL("./fixtures/import-fails-app.mjs", import.meta.url) });
afterAll(async () => {
  await app.close(); // the definition runs on the default provider: local
  await backend.close();
});

const onAws = Function_.fromName<(x: number) => number>("import-fails-app", "work", { provider: backend.provider });
const targets = [
  { name: "local", fn: work as unknown as Function_<(x: number) => number> },
  { name: "aws (offline backend)", fn: onAws },
];
const MISSING = /could not start: .*a dependency is missing where it runs/;

describe("a module that fails to import where it runs", { timeout: 60_000 }, () => {
  for (const { name, fn } of targets) {
    it(`${name}: remote rejects with RemoteError naming the import error`, async () => {
      const err = await fn.remote(1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as Error).message).toMatch(MISSING);
    });

    it(`${name}: a spawned call settles with RemoteError, and nothing stays running`, async () => {
      const call = await fn.spawn(1);
      const err = await call.get({ timeoutMs: 30_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as Error).message).toMatch(MISSING);
      // The platform lets go of the delivery just after the result is stored (SQS: the message's deletion).
      await expect.poll(async () => (await fn.getCurrentStats()).numRunningInputs, { timeout: 10_000 }).toBe(0);
    });
  }
});
