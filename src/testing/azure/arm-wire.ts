/**
 * The ARM test double's wire (arm-double.ts): the paths and api-versions the SDKs send, each request's SDK
 * operation, ARM's error body, the site and deployment records as ARM and Kudu carry them, and ARM's merge.
 */
export type Json = Record<string, unknown>;

/** A function app as ARM carries it on the wire (`properties.*`), with what the data plane would hold. */
export interface ArmSite {
  name: string;
  resourceGroup: string;
  /** The site resource: id, name, type, kind, location, tags, identity, properties. */
  resource: Json;
  /** App settings (`config/appsettings`). */
  settings: Record<string, string>;
  /** The `default` host key (stable for the site's life). */
  hostKey: string;
  /** Each zip published to the site's SCM host, in order. */
  packages: Buffer[];
}

/** The SDK operations the double serves, as counted. */
export type ArmOperation =
  | "appServicePlans.createOrUpdate"
  | "appServicePlans.get"
  | "appServicePlans.delete"
  | "webApps.createOrUpdate"
  | "webApps.get"
  | "webApps.update"
  | "webApps.delete"
  | "webApps.listByResourceGroup"
  | "webApps.updateApplicationSettings"
  | "webApps.listApplicationSettings"
  | "webApps.listHostKeys"
  | "webApps.getConfiguration"
  | "webApps.updateConfiguration"
  | "managementPolicies.get"
  | "managementPolicies.createOrUpdate"
  | "managementPolicies.delete"
  | "scm.publish"
  | "scm.zipDeploy"
  | "scm.deploymentStatus";

const SUB = "/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers";
export const SITE = new RegExp(`^${SUB}/Microsoft\\.Web/sites/([^/]+)(/.*)?$`, "i");
export const SITES = new RegExp(`^${SUB}/Microsoft\\.Web/sites$`, "i");
export const PLAN = new RegExp(`^${SUB}/Microsoft\\.Web/serverfarms/([^/]+)$`, "i");
export const POLICY = new RegExp(`^${SUB}/Microsoft\\.Storage/storageAccounts/([^/]+)/managementPolicies/([^/]+)$`, "i");
export const SCM = /^\/scm\/([^/]+)\/api\/(publish|zipdeploy|deployments\/([^/]+))$/;
export const API_VERSIONS: Record<string, string> = { web: "2025-05-01", storage: "2025-08-01" };

/** Deployment status codes of Kudu: 3 Failed, 4 Success (0–2: pending, building, deploying). */
const FAILED = 3;
const SUCCESS = 4;

export interface Deployment {
  id: string;
  site: string;
  polls: number;
  failure?: string;
}

export type Answer = [status: number, body?: unknown, headers?: Record<string, string>];

const SITE_OPERATIONS: Record<string, ArmOperation> = {
  "PUT ": "webApps.createOrUpdate",
  "GET ": "webApps.get",
  "PATCH ": "webApps.update",
  "DELETE ": "webApps.delete",
  "PUT /config/appsettings": "webApps.updateApplicationSettings",
  "POST /config/appsettings/list": "webApps.listApplicationSettings",
  "POST /host/default/listkeys": "webApps.listHostKeys",
  "GET /config/web": "webApps.getConfiguration",
  "PUT /config/web": "webApps.updateConfiguration",
  "PATCH /config/web": "webApps.updateConfiguration",
};
export const scmOperation = (path: string): ArmOperation =>
  path === "publish" ? "scm.publish" : path === "zipdeploy" ? "scm.zipDeploy" : "scm.deploymentStatus";
const siteOperation = (method: string, rest: string): ArmOperation | undefined => SITE_OPERATIONS[`${method} ${rest}`];

/** Kudu's deployment record: `status` 4 Success, 3 Failed; `complete` once it ended. */
export function statusBody(d: Deployment, done: boolean): Json {
  const status = !done ? 1 : d.failure === undefined ? SUCCESS : FAILED;
  const text = !done ? "Building" : d.failure === undefined ? "Deployment successful." : d.failure;
  return { id: d.id, status, status_text: text, complete: done, active: done && d.failure === undefined };
}

export function settingsOf(site: ArmSite): Json {
  const id = `${String(site.resource.id)}/config/appsettings`;
  return { id, name: "appsettings", type: "Microsoft.Web/sites/config", properties: site.settings };
}

/** ARM never returns app settings inside `siteConfig`: they live in `config/appsettings`. */
export function withoutAppSettings(props: Json | undefined): Json | undefined {
  if (props === undefined) return undefined;
  const siteConfig = props.siteConfig as Json | undefined;
  if (siteConfig === undefined) return props;
  const { appSettings: _, ...rest } = siteConfig;
  return { ...props, siteConfig: rest };
}

/** `a` with `b`'s fields over it, objects merged, arrays and scalars replaced (ARM's PATCH). */
export function merged(a: Json, b: Json | undefined): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b ?? {})) {
    if (v === undefined) continue;
    const was = out[k];
    out[k] =
      typeof v === "object" && v !== null && !Array.isArray(v) && typeof was === "object" && was !== null && !Array.isArray(was)
        ? merged(was as Json, v as Json)
        : v;
  }
  return out;
}

export const fail = (status: number, code: string, message: string): Answer => [status, { error: { code, message } }];
export const notFound = (what: string, group: string): Answer =>
  fail(404, "ResourceNotFound", `The Resource '${what}' under resource group '${group}' was not found.`);

/** The operation a request is for, without serving it (a refusal is counted against the operation it refused). */
export function operationOf(method: string, path: string): ArmOperation | undefined {
  const scm = SCM.exec(path);
  if (scm !== null) return scmOperation(scm[2] as string);
  const m = SITE.exec(path);
  if (m !== null) return siteOperation(method, m[4] ?? "");
  if (SITES.test(path)) return "webApps.listByResourceGroup";
  if (PLAN.test(path))
    return method === "PUT"
      ? "appServicePlans.createOrUpdate"
      : method === "GET"
        ? "appServicePlans.get"
        : "appServicePlans.delete";
  if (POLICY.test(path))
    return method === "PUT"
      ? "managementPolicies.createOrUpdate"
      : method === "GET"
        ? "managementPolicies.get"
        : "managementPolicies.delete";
  return undefined;
}
