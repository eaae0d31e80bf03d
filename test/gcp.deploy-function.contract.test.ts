// Deploying one Cloud Function against the admin API test double, through the real client:
// created once; a redeploy of the same code and options reads and sends nothing else; a changed
// setting is one update under a mask naming only it; changed code is uploaded and updated.
import { App } from "faasade";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bundle } from "../dist/src/cloud/bundle.js";
import { manifestOf } from "../dist/src/core/manifest.js";
import { type GcpDeployContext, deployContext } from "../src/providers/gcp/deploy/context.js";
import { type FunctionPlan, ensureFunction } from "../src/providers/gcp/deploy/function.js";
import { gcpSettings } from "../src/providers/gcp/deploy/function-options.js";
import { type FunctionsDouble, startFunctionsDouble } from "../src/testing/gcp/functions-double.js";
import { loopbackAuth } from "../src/testing/gcp/loopback-auth.js";

process.env.METADATA_SERVER_DETECTION = "none";
let double: FunctionsDouble;
let ctx: GcpDeployContext;
const uploads: number[] = [];
const ref = { prefix: "faasade", project: "my-project", region: "us-central1", app: "shop", environment: "main" };

beforeAll(async () => {
  double = await startFunctionsDouble({ onDeploy: (_fn, zip) => void (zip && uploads.push(zip.length)) });
  ctx = deployContext({
    project: ref.project,
    region: ref.region,
    endpoints: { functions: double.url },
    authClient: loopbackAuth,
  });
});
afterAll(() => double?.close());

const code = (text: string): Bundle => ({ zip: new TextEncoder().encode(text), hash: text.padEnd(64, "0"), installed: [] });
let n = 0;
const plan = (options: object, bundle: Bundle): FunctionPlan => {
  const app = new App(`deploy-${n++}`);
  app.function(function resize(x: number) {
    return x;
  }, options as never);
  const fn = manifestOf(app as never).functions[0] as FunctionPlan["fn"];
  return {
    ref,
    fn,
    settings: gcpSettings(fn, { memoryMb: ctx.memoryMb }),
    code: bundle,
    environment: { FAASADE_PROVIDER: "gcp" },
  };
};
const since = (mark: number) => double.requests.slice(mark).filter((r) => !r.includes("/operations/"));

describe("deploying a Cloud Function (contract)", () => {
  it("creates it once, then a redeploy of the same code and options is one read", async () => {
    let mark = double.requests.length;
    const first = await ensureFunction(ctx, plan({ maxInputs: 4, maxContainers: 3 }, code("v1")));
    expect(first.changed).toBe("created");
    expect(first.url).toBe("https://us-central1-my-project.cloudfunctions.net/faasade-main-shop-resize");
    expect(since(mark)).toEqual([
      "GET /v2/projects/my-project/locations/us-central1/functions/faasade-main-shop-resize",
      "POST /v2/projects/my-project/locations/us-central1/functions:generateUploadUrl",
      expect.stringMatching(/^PUT \/upload\//),
      "POST /v2/projects/my-project/locations/us-central1/functions",
    ]);
    const made = double.functions.get(first.resource);
    expect(made?.serviceConfig).toMatchObject({
      maxInstanceRequestConcurrency: 4,
      maxInstanceCount: 3,
      minInstanceCount: 0,
      availableMemory: "512Mi",
    });
    expect(made?.labels).toMatchObject({
      "faasade-app": "shop",
      "faasade-function": "resize",
      "faasade-code": "v1".padEnd(63, "0"),
    });
    mark = double.requests.length;
    const again = await ensureFunction(ctx, plan({ maxInputs: 4, maxContainers: 3 }, code("v1")));
    expect(again.changed).toEqual([]);
    expect(since(mark)).toEqual(["GET /v2/projects/my-project/locations/us-central1/functions/faasade-main-shop-resize"]);
  });

  it("a changed setting is one update under a mask naming only it, without uploading code", async () => {
    const mark = double.requests.length;
    const changed = await ensureFunction(ctx, plan({ maxInputs: 4, maxContainers: 3, minContainers: 2 }, code("v1")));
    expect(changed.changed).toEqual(["service_config.min_instance_count"]);
    expect(since(mark)).toEqual([
      "GET /v2/projects/my-project/locations/us-central1/functions/faasade-main-shop-resize",
      "PATCH /v2/projects/my-project/locations/us-central1/functions/faasade-main-shop-resize",
    ]);
    expect(double.functions.get(changed.resource)?.serviceConfig?.minInstanceCount).toBe(2);
  });

  it("changed code is uploaded and updated with its new hash", async () => {
    const updated = await ensureFunction(ctx, plan({ maxInputs: 4, maxContainers: 3, minContainers: 2 }, code("v2-longer")));
    expect(updated.changed).toEqual(expect.arrayContaining(["build_config.source", "labels"]));
    expect(uploads.at(-1)).toBe("v2-longer".length);
    expect(double.functions.get(updated.resource)?.labels?.["faasade-code"]).toBe("v2-longer".padEnd(63, "0"));
    const again = await ensureFunction(ctx, plan({ maxInputs: 4, maxContainers: 3, minContainers: 2 }, code("v2-longer")));
    expect(again.changed).toEqual([]);
  });
});
