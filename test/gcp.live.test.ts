// Against a real Google Cloud project: deploys the gcp-live-app fixture under a prefix of its own
// through the gcp deployer, calls it every way a client can, and destroys it afterwards (also when
// a test failed). Runs only with credentials, FAASADE_GCP_LIVE=1 and GOOGLE_CLOUD_PROJECT;
// otherwise it is skipped with one line saying what is missing. Nothing here reaches the network,
// nor loads a Google SDK, unless it runs.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { Function_ } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestOf } from "../src/core/manifest.js";
import type { Deployer } from "../src/core/provider.js";
import { gcpClients } from "../src/providers/gcp/clients.js";
import type { GcpDeployOptions } from "../src/providers/gcp/deploy/context.js";
import { gcpDeployer } from "../src/providers/gcp/deployer.js";
import { type GcpProvider, gcp } from "../src/providers/gcp/index.js";
import { functionPath } from "../src/providers/gcp/names.js";
import { liveRows } from "./live-rows.js";
import * as fixture from "./fixtures/gcp-live-app.mjs";

const MODULE = resolve("test/fixtures/gcp-live-app.mjs");
const APP = "gcp-live";

/** The Application Default Credentials file google-auth-library would read, if there is one. */
function credentialsFile(): string | undefined {
  const given = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (given) return existsSync(given) ? given : undefined;
  const gcloudDir = process.env.CLOUDSDK_CONFIG || join(homedir(), ".config", "gcloud");
  const adc = join(gcloudDir, "application_default_credentials.json");
  return existsSync(adc) ? adc : undefined;
}

const project = process.env.GOOGLE_CLOUD_PROJECT;
const missing = [
  ...(credentialsFile() === undefined
    ? [
        process.env.GOOGLE_APPLICATION_CREDENTIALS
          ? `GOOGLE_APPLICATION_CREDENTIALS names no file (${process.env.GOOGLE_APPLICATION_CREDENTIALS})`
          : "no credentials (GOOGLE_APPLICATION_CREDENTIALS unset, no gcloud application_default_credentials.json)",
      ]
    : []),
  ...(process.env.FAASADE_GCP_LIVE === "1" ? [] : ["FAASADE_GCP_LIVE is not 1"]),
  ...(project ? [] : ["GOOGLE_CLOUD_PROJECT is not set"]),
];
const live = missing.length === 0;
if (!live) console.info(`gcp live suite skipped: ${missing.join("; ")}`);

describe.skipIf(!live)("gcp live suite (a real project)", { timeout: 600_000 }, () => {
  // A prefix of this run's own (at most 20 characters: a letter, then [a-z0-9-]).
  const prefix = `fzlive-${Date.now().toString(36)}`;
  const options: GcpDeployOptions = {
    prefix,
    region: process.env.FAASADE_GCP_REGION || process.env.GOOGLE_CLOUD_REGION || "us-central1",
    retentionMs: 24 * 3600 * 1000,
  };
  // Made in beforeAll, not here: a skipped suite still runs this body, and gcp() checks its options.
  let deployer: Deployer;
  let provider: GcpProvider;
  const fn = <F extends (...args: never[]) => unknown>(name: string) => Function_.fromName<F>(APP, name, { provider });

  /** What the Functions API says the function's minimum of instances is. */
  async function minInstances(name: string): Promise<number> {
    const functions = await gcpClients({ project: project as string }).functions();
    const ref = { prefix, project: project as string, region: options.region as string, app: APP, environment: "main" };
    const [found] = await functions.getFunction({ name: functionPath(ref, name) });
    return Number(found.serviceConfig?.minInstanceCount ?? 0);
  }

  beforeAll(async () => {
    deployer = gcpDeployer({ ...options, log: (line) => console.info(`deploy: ${line}`) });
    provider = gcp(options);
    await deployer.deploy(MODULE, [manifestOf(fixture.app)]);
  }, 1_800_000);

  afterAll(async () => {
    await provider?.close?.();
    // Whatever the tests did, the app goes. A deploy that failed before it wrote the manifest left
    // nothing that destroy can find: that is said, not thrown; any other failure is the suite's.
    try {
      await deployer?.destroy(APP, "main");
    } catch (err) {
      if ((err as Error).name !== "NotFoundError") throw err;
      console.info(`gcp live suite: nothing of ${prefix} to destroy (${(err as Error).message})`);
    }
  }, 1_800_000);

  it("remote runs one input in Cloud Functions", async () => {
    expect(await fn<(x: number) => number>("square").remote(12)).toBe(144);
  });

  it("map returns every input's result, in order", async () => {
    const out: number[] = [];
    for await (const y of fn<(x: number) => number>("square").map([1, 2, 3, 4, 5])) out.push(y);
    expect(out).toEqual([1, 4, 9, 16, 25]);
  });

  it("spawn then get: a Cloud Tasks delivery, its result in Cloud Storage", async () => {
    const call = await fn<(x: number) => number>("square").spawn(9);
    expect(await call.get({ timeoutMs: 300_000 })).toBe(81);
  });

  liveRows({ app: APP, provider: () => provider, another: () => gcp(options) });

  it("keepWarm 1 sets min instances 1, getCurrentStats counts the warm one, keepWarm 0 sets it back", async () => {
    const square = fn<(x: number) => number>("square");
    await square.keepWarm(1);
    expect(await minInstances("square")).toBe(1);
    const warm = await square.getCurrentStats();
    expect(Object.keys(warm).sort()).toEqual(["backlog", "numRunningInputs", "numTotalRunners"]);
    expect(warm.numTotalRunners).toBeGreaterThanOrEqual(1);
    expect(warm.backlog).toBeGreaterThanOrEqual(0);
    await square.keepWarm(0);
    expect(await minInstances("square")).toBe(0);
  });

  it("a function that is not a web function has no web URL", async () => {
    expect(await fn("square").getWebUrl()).toBeUndefined();
  });
});
