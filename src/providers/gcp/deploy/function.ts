/**
 * One Cloud Function, idempotently: created when missing; otherwise only the fields that differ
 * are sent, under an update mask, and the code is uploaded only when its hash (a label) changed.
 * A second deploy of the same code and options sends nothing but the read.
 */
import type { Bundle } from "../../../cloud/bundle.js";
import type { FunctionManifest } from "../../../core/manifest.js";
import { gcpCall, isNotFound } from "../clients.js";
import { type AppRef, functionId, functionPath, labelValue } from "../names.js";
import { uploadCode } from "./code.js";
import type { GcpDeployContext } from "./context.js";
import type { GcpSettings } from "./function-options.js";

/** The entry point the bundle registers with functions-framework. */
export const ENTRY_POINT = "faasade";
/** Labels are how a deploy knows what is there: the app's, and the code's hash. */
export const CODE_LABEL = "faasade-code";
const INGRESS = ["INGRESS_SETTINGS_UNSPECIFIED", "ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"];

export interface FunctionPlan {
  ref: AppRef;
  fn: FunctionManifest;
  settings: GcpSettings;
  code: Bundle;
  /** faasade's own variables for the runtime (FAASADE_*). */
  environment: Record<string, string>;
}

export interface DeployedFunction {
  name: string;
  resource: string;
  url: string | undefined;
  /** What was sent: "created", the mask paths updated, or nothing. */
  changed: "created" | string[];
}

/** The service settings faasade owns, as the API names them, each with its update-mask path. */
function serviceFields(plan: FunctionPlan): [path: string, field: string, value: unknown][] {
  const s = plan.settings;
  const fields: [string, string, unknown][] = [
    ["service_config.available_memory", "availableMemory", s.availableMemory],
    ["service_config.timeout_seconds", "timeoutSeconds", s.timeoutS],
    ["service_config.min_instance_count", "minInstanceCount", s.minInstances],
    ["service_config.max_instance_count", "maxInstanceCount", s.maxInstances],
    ["service_config.max_instance_request_concurrency", "maxInstanceRequestConcurrency", s.concurrency],
    ["service_config.ingress_settings", "ingressSettings", s.ingress],
    ["service_config.environment_variables", "environmentVariables", { ...s.environment, ...plan.environment }],
    ["service_config.all_traffic_on_latest_revision", "allTrafficOnLatestRevision", true],
  ];
  // Google fills these in when unset (a default CPU, the compute service account): compared only when set.
  if (s.cpu !== undefined) fields.push(["service_config.available_cpu", "availableCpu", String(s.cpu)]);
  if (s.serviceAccount !== undefined)
    fields.push(["service_config.service_account_email", "serviceAccountEmail", s.serviceAccount]);
  if (s.vpcConnector !== undefined) fields.push(["service_config.vpc_connector", "vpcConnector", s.vpcConnector]);
  return fields;
}

function labels(plan: FunctionPlan): Record<string, string> {
  return {
    "faasade-app": labelValue(plan.ref.app),
    "faasade-env": labelValue(plan.ref.environment),
    "faasade-function": labelValue(plan.fn.name),
    [CODE_LABEL]: plan.code.hash.slice(0, 63),
  };
}

export async function ensureFunction(ctx: GcpDeployContext, plan: FunctionPlan): Promise<DeployedFunction> {
  const functions = await ctx.sdk.functions();
  const name = functionPath(plan.ref, plan.fn.name);
  const found = await gcpCall(`GetFunction ${name}`, async () => {
    try {
      return (await functions.getFunction({ name }))[0];
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
  const service = Object.fromEntries(serviceFields(plan).map(([, field, value]) => [field, value]));
  const build = { runtime: ctx.options.runtime, entryPoint: ENTRY_POINT };
  if (found === undefined) {
    ctx.log(`creating the function ${plan.fn.name}`);
    const source = await uploadCode(ctx, plan.code);
    const [op] = await gcpCall(`CreateFunction ${name}`, () =>
      functions.createFunction({
        parent: ctx.location,
        functionId: functionId(plan.ref, plan.fn.name),
        function: {
          environment: "GEN_2",
          labels: labels(plan),
          buildConfig: { ...build, source: { storageSource: source } },
          serviceConfig: service,
        },
      }),
    );
    const [made] = await gcpCall(`CreateFunction ${name} (waiting)`, () => op.promise());
    return { name: plan.fn.name, resource: name, url: made.url ?? undefined, changed: "created" };
  }
  const mask = differences(found as FoundFunction, plan, build.runtime);
  if (mask.length === 0) return { name: plan.fn.name, resource: name, url: found.url ?? undefined, changed: [] };
  ctx.log(`updating the function ${plan.fn.name} (${mask.join(", ")})`);
  const codeChanged = mask.includes("build_config.source");
  const source = codeChanged ? await uploadCode(ctx, plan.code) : undefined;
  const [op] = await gcpCall(`UpdateFunction ${name}`, () =>
    functions.updateFunction({
      function: {
        name,
        labels: labels(plan),
        buildConfig: { ...build, ...(source ? { source: { storageSource: source } } : {}) },
        serviceConfig: service,
      },
      updateMask: { paths: mask },
    }),
  );
  const [updated] = await gcpCall(`UpdateFunction ${name} (waiting)`, () => op.promise());
  return { name: plan.fn.name, resource: name, url: updated.url ?? found.url ?? undefined, changed: mask };
}

interface FoundFunction {
  labels?: Record<string, string> | null;
  buildConfig?: { runtime?: string | null } | null;
  serviceConfig?: Record<string, unknown> | null;
}

/** The update-mask paths whose desired value differs from what is deployed. */
function differences(found: FoundFunction, plan: FunctionPlan, runtime: string): string[] {
  const mask: string[] = [];
  if (found.labels?.[CODE_LABEL] !== labels(plan)[CODE_LABEL]) mask.push("build_config.source");
  if (found.buildConfig?.runtime !== runtime) mask.push("build_config.runtime");
  if (!sameJson(found.labels ?? {}, labels(plan))) mask.push("labels");
  for (const [path, field, value] of serviceFields(plan)) {
    if (!sameJson(normalized(field, found.serviceConfig?.[field]), value)) mask.push(path);
  }
  return mask;
}

/** Enums may come back as numbers (`enum-encoding=int`), int64s as strings, empty maps as absent. */
function normalized(field: string, value: unknown): unknown {
  if (field === "ingressSettings" && typeof value === "number") return INGRESS[value];
  if ((field === "timeoutSeconds" || field.endsWith("Count") || field.endsWith("Concurrency")) && typeof value === "string")
    return Number(value);
  if (field === "environmentVariables") return value ?? {};
  return value;
}

function sameJson(a: unknown, b: unknown): boolean {
  const sorted = (v: unknown): unknown =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .sort(([x], [y]) => (x < y ? -1 : 1))
            .map(([k, w]) => [k, sorted(w)]),
        )
      : v;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}
