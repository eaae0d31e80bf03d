// Against a real AWS account: deploys the aws-app fixture under a prefix of its own, calls it,
// and destroys it. Runs only with credentials and FAASADE_AWS_LIVE=1; otherwise skipped, saying why.
import { resolve } from "node:path";
import { Function_ } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployAws, destroyAws } from "../src/providers/aws/deploy/resources.js";
import { aws } from "../src/providers/aws/index.js";
import { manifestOf } from "../src/core/manifest.js";
import * as fixture from "./fixtures/aws-app.mjs";

const hasCredentials = Boolean(
  process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE || process.env.AWS_WEB_IDENTITY_TOKEN_FILE,
);
const live = hasCredentials && process.env.FAASADE_AWS_LIVE === "1";
if (!live) {
  console.info(
    `aws live suite skipped: ${hasCredentials ? "set FAASADE_AWS_LIVE=1 to deploy to your account" : "no AWS credentials in the environment"}`,
  );
}

describe.skipIf(!live)("aws live suite (a real account)", { timeout: 600_000 }, () => {
  const prefix = `faasade-live-${Date.now().toString(36)}`;
  const provider = aws({ prefix });
  const fn = (name: string) => Function_.fromName("aws-app", name, { provider });

  beforeAll(async () => {
    await deployAws(resolve("test/fixtures/aws-app.mjs"), [manifestOf(fixture.app)], { prefix });
  });
  afterAll(async () => {
    await destroyAws("aws-app", "main", { prefix });
  });

  it("remote, map and spawn/get run in Lambda", async () => {
    expect(await fn("square").remote(12)).toBe(144);
    const out: unknown[] = [];
    for await (const v of fn("square").map([1, 2, 3])) out.push(v);
    expect(out).toEqual([1, 4, 9]);
    const call = await fn("square").spawn(5);
    expect(await call.get()).toBe(25);
  });

  it("a generator streams through InvokeWithResponseStream", async () => {
    const values: unknown[] = [];
    for await (const v of fn("count").remoteGen(3)) values.push(v);
    expect(values).toEqual([0, 1, 2]);
  });
});
