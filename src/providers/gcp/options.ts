/** The options of `gcp()`, checked up front, and their defaults from the variables Google's own tools set. */
import { envEndpoints, fromEnv, required } from "../../cloud/env.js";
import { endpointUrls, oneOf, optionsObject, patternRules, sharedCloudOptions } from "../../cloud/options.js";
import { InvalidError } from "../../core/errors.js";
import type { GcpAuthClient, GcpEndpoints } from "./clients.js";

/** Node.js runtimes of Cloud Functions faasade deploys to (nodejs20 was decommissioned on 2026-10-30). */
export const RUNTIMES = ["nodejs22", "nodejs24"] as const;
export type GcpRuntime = (typeof RUNTIMES)[number];

export interface GcpOptions {
  /** The project. @default GOOGLE_CLOUD_PROJECT, else GCLOUD_PROJECT, else CLOUDSDK_CORE_PROJECT */
  project?: string;
  /** The region functions, queues and the bucket live in. @default FAASADE_GCP_REGION, else GOOGLE_CLOUD_REGION, else CLOUDSDK_FUNCTIONS_REGION */
  region?: string;
  /** Credentials. @default Application Default Credentials */
  authClient?: GcpAuthClient;
  /** Per-service endpoints (a loopback stand-in, a private endpoint). @default FAASADE_GCP_ENDPOINT_FUNCTIONS, _TASKS, _STORAGE, _RUN, else Google's */
  endpoints?: GcpEndpoints;
  /** The Node.js runtime of deployed functions. @default "nodejs22" */
  runtime?: GcpRuntime;
  /** The service account functions run as, and Cloud Tasks signs its ID tokens as. @default the project's default compute service account */
  serviceAccount?: string;
  /** An existing bucket to hold every app's objects (under "faasade/"). @default one bucket per app and environment */
  bucket?: string;
  /** How long spawned results are kept. @default FAASADE_GCP_RETENTION_MS, else 7 days */
  retentionMs?: number;
  /** Prefix of every resource name. @default FAASADE_GCP_PREFIX, else "faasade" */
  prefix?: string;
  /** HTTPS calls in flight at once from this process. @default 64 */
  maxInFlight?: number;
  /** A map whose first batch has at least this many inputs goes through Cloud Tasks. @default never */
  fanOutFrom?: number;
}

/** The options with every default filled in and every value checked. */
export type ResolvedGcpOptions = ReturnType<typeof resolveGcpOptions>;

const SERVICES = ["functions", "tasks", "storage", "run"] as const satisfies readonly (keyof GcpEndpoints)[];
const PROJECT_VARS = ["GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"];
const REGION_VARS = ["FAASADE_GCP_REGION", "GOOGLE_CLOUD_REGION", "CLOUDSDK_FUNCTIONS_REGION"];

/** Each name option's rule, and the example its message gives. */
const RULES = {
  project: [/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, '"my-project" (6–30 characters of a-z, 0-9 and -)'],
  region: [/^[a-z]+-[a-z]+\d+$/, '"us-central1"'],
  serviceAccount: [
    /^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$|^[^@\s]+@developer\.gserviceaccount\.com$/,
    'an e-mail such as "runner@my-project.iam.gserviceaccount.com"',
  ],
  bucket: [/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, "a bucket name"],
  prefix: [/^[a-z][a-z0-9-]{0,19}$/, '"faasade" (a letter, then up to 19 of a-z, 0-9 and -)'],
} as const;
const check = patternRules("gcp", RULES);
const KNOWN = [...Object.keys(RULES), "authClient", "endpoints", "runtime", "retentionMs", "maxInFlight", "fanOutFrom"];

export function resolveGcpOptions(options: GcpOptions) {
  optionsObject("gcp", options, KNOWN);
  const project = required("gcp", "project", options.project, PROJECT_VARS, "Google Cloud project", "my-project");
  const region = required("gcp", "region", options.region, REGION_VARS, "region", "us-central1");
  return {
    project: check("project", project),
    region: check("region", region),
    authClient: options.authClient,
    endpoints: endpointUrls("gcp", options.endpoints ?? endpointsFromEnv(), SERVICES) as GcpEndpoints,
    runtime: checkedRuntime(options.runtime),
    serviceAccount: options.serviceAccount === undefined ? undefined : check("serviceAccount", options.serviceAccount),
    bucket: options.bucket === undefined ? fromEnv("FAASADE_GCP_BUCKET") : check("bucket", options.bucket),
    prefix: check("prefix", options.prefix ?? fromEnv("FAASADE_GCP_PREFIX") ?? "faasade"),
    ...sharedCloudOptions("gcp", options),
  };
}

function checkedRuntime(runtime: unknown): GcpRuntime {
  if (runtime === "nodejs20" || runtime === "nodejs18")
    throw new InvalidError(
      `gcp: runtime ${JSON.stringify(runtime)} is decommissioned on Cloud Functions; use "nodejs22" (the default) or "nodejs24"`,
    );
  return oneOf("gcp", "runtime", runtime ?? "nodejs22", RUNTIMES);
}

/** `FAASADE_GCP_ENDPOINT_<SERVICE>`: how another process (a deployed function, a CLI) is pointed at the same stand-ins. */
export const endpointsFromEnv = (vars: NodeJS.ProcessEnv = process.env): GcpEndpoints =>
  envEndpoints(SERVICES, "FAASADE_GCP_ENDPOINT_", vars);
