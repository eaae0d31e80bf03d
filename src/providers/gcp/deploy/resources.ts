/**
 * `faasade deploy <file> --provider gcp`: makes or updates, idempotently, what an app needs on
 * Google Cloud, and converges: what the app no longer has goes. Every step reads first and
 * writes only what differs, so a second deploy of the same code sends nothing but reads. Every
 * function's settings are checked before anything is made. Per app: the bucket (bucket.ts), the
 * manifest, then per function its Cloud Tasks queue (queue.ts), the Cloud Function
 * (function.ts) and who may call it (iam.ts). destroy.ts removes it all. See docs/gcp.md.
 */
import { type Bundle, bundle } from "../../../cloud/bundle.js";
import type { AppManifest, FunctionManifest } from "../../../core/manifest.js";
import { type AppRef, bucketName, queuePath } from "../names.js";
import { ensureBucket, putManifest, readManifest } from "./bucket.js";
import { type GcpDeployContext, type GcpDeployOptions, appRef, deployContext } from "./context.js";
import { removeFunction } from "./destroy.js";
import { gcpBundle } from "./entry.js";
import { type DeployedFunction, ensureFunction } from "./function.js";
import { type GcpSettings, gcpSettings } from "./function-options.js";
import { ensureInvokers } from "./iam.js";
import { ensureQueue, queueLimits } from "./queue.js";

export type { GcpDeployOptions } from "./context.js";
export type { DeployedFunction } from "./function.js";
export { destroyGcp } from "./destroy.js";

/** Builds the bundle: deployGcp bundles the module; contract tests pass a stand-in. */
export type Bundler = () => Promise<Bundle>;

export interface DeployedGcpFunction extends DeployedFunction {
  app: string;
  /** The URL of a web function (public unless `web.auth`). */
  webUrl: string | undefined;
}

/** Deploys the apps defined by `module` (their manifests, as the CLI makes them). */
export function deployGcp(module: string, apps: AppManifest[], options: GcpDeployOptions = {}): Promise<DeployedGcpFunction[]> {
  return deployApps(apps, options, () => bundle(gcpBundle(module, options.external)));
}

interface AppPlan {
  app: AppManifest;
  settings: Map<string, GcpSettings>;
}

/** deployGcp with the bundling step given: checks everything, bundles once, deploys app by app. */
export async function deployApps(
  apps: AppManifest[],
  options: GcpDeployOptions,
  bundler: Bundler,
): Promise<DeployedGcpFunction[]> {
  const ctx = deployContext(options);
  const plans: AppPlan[] = apps.map((app) => ({
    app,
    settings: new Map(app.functions.map((fn) => [fn.name, gcpSettings(fn, { memoryMb: ctx.memoryMb })])),
  }));
  ctx.log("bundling");
  const code = await bundler();
  const out: DeployedGcpFunction[] = [];
  for (const plan of plans) out.push(...(await deployApp(ctx, plan, code)));
  return out;
}

async function deployApp(ctx: GcpDeployContext, { app, settings }: AppPlan, code: Bundle): Promise<DeployedGcpFunction[]> {
  const ref = appRef(ctx, app.app, app.environment);
  await ensureBucket(ctx, ref);
  // Functions the app no longer has go while the old manifest still lists them: an interrupted
  // deploy finds them again.
  const previous = await readManifest(ctx, ref);
  const names = new Set(app.functions.map((f) => f.name));
  for (const old of previous?.functions ?? []) if (!names.has(old.name)) await removeFunction(ctx, ref, old.name);
  await putManifest(ctx, ref, app);
  const out: DeployedGcpFunction[] = [];
  for (const fn of app.functions) {
    const s = settings.get(fn.name) as GcpSettings;
    await ensureQueue(ctx, ref, fn.name, queueLimits(s));
    const deployed = await ensureFunction(ctx, { ref, fn, settings: s, code, environment: runtimeEnvironment(ctx, ref, fn, s) });
    const wasPublic = isPublicWeb(previous?.functions.find((f) => f.name === fn.name));
    const accounts = [...new Set([s.serviceAccount, ctx.options.serviceAccount].filter((a) => a !== undefined))];
    // Without an account to admit, only web functions and functions that were public can need a change: the others are not read.
    if (fn.options.web !== undefined || wasPublic || accounts.length > 0)
      await ensureInvokers(ctx, deployed.resource, { isPublic: isPublicWeb(fn), accounts });
    out.push({ ...deployed, app: app.app, webUrl: fn.options.web === undefined ? undefined : deployed.url });
  }
  return out;
}

const isPublicWeb = (fn: FunctionManifest | undefined) => fn?.options.web !== undefined && fn.options.web.auth !== true;

/**
 * faasade's variables for the runtime (runtime.ts, deployed.ts): which function this
 * deployment is, and the provider's options as `gcp()` reads them from the environment, so
 * that calls made inside a function go to this cloud.
 */
export function runtimeEnvironment(
  ctx: GcpDeployContext,
  ref: AppRef,
  fn: FunctionManifest,
  s: GcpSettings,
): Record<string, string> {
  const serviceAccount = s.serviceAccount ?? ctx.options.serviceAccount;
  return {
    FAASADE_PROVIDER: "gcp",
    FAASADE_APP: ref.app,
    FAASADE_ENVIRONMENT: ref.environment,
    FAASADE_FUNCTION: fn.name,
    GOOGLE_CLOUD_PROJECT: ref.project,
    FAASADE_GCP_REGION: ref.region,
    FAASADE_GCP_PREFIX: ref.prefix,
    FAASADE_GCP_RETENTION_MS: String(ctx.options.retentionMs),
    FAASADE_GCP_TIMEOUT_MS: String(fn.options.timeoutMs),
    FAASADE_GCP_QUEUE: queuePath(ref, fn.name),
    ...(ref.bucket === undefined ? {} : { FAASADE_GCP_BUCKET: bucketName(ref) }),
    ...(serviceAccount === undefined ? {} : { FAASADE_GCP_SERVICE_ACCOUNT: serviceAccount }),
  };
}
