/**
 * The options of `gcp()`, checked up front with messages that quote the bad value, and their
 * defaults from the environment (the variables Google's own tools set).
 */
import { atLeastOne, envMs } from "../../cloud/options.js";
import { InvalidError, describe } from "../../core/errors.js";
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
export interface ResolvedGcpOptions {
  project: string;
  region: string;
  authClient: GcpAuthClient;
  endpoints: GcpEndpoints;
  runtime: GcpRuntime;
  serviceAccount: string | undefined;
  bucket: string | undefined;
  retentionMs: number;
  prefix: string;
  maxInFlight: number;
  fanOutFrom: number;
}

const KNOWN = new Set<string>([
  "project",
  "region",
  "authClient",
  "endpoints",
  "runtime",
  "serviceAccount",
  "bucket",
  "retentionMs",
  "prefix",
  "maxInFlight",
  "fanOutFrom",
]);
const SEVEN_DAYS = 7 * 24 * 3600 * 1000;
const env = (...names: string[]) => names.map((n) => process.env[n]).find((v) => v !== undefined && v !== "");

export function resolveGcpOptions(options: GcpOptions): ResolvedGcpOptions {
  if (options === null || typeof options !== "object")
    throw new InvalidError(`gcp: options must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidError(`gcp: unknown option ${JSON.stringify(key)}; known: ${[...KNOWN].join(", ")}`);
  }
  const project = options.project ?? env("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT");
  if (project === undefined) {
    throw new InvalidError(
      'gcp: no Google Cloud project is set: set GOOGLE_CLOUD_PROJECT (export GOOGLE_CLOUD_PROJECT=my-project), or pass gcp({ project: "my-project" }) in code',
    );
  }
  const region = options.region ?? env("FAASADE_GCP_REGION", "GOOGLE_CLOUD_REGION", "CLOUDSDK_FUNCTIONS_REGION");
  if (region === undefined) {
    throw new InvalidError(
      'gcp: no region is set: set FAASADE_GCP_REGION (export FAASADE_GCP_REGION=us-central1), or pass gcp({ region: "us-central1" }) in code',
    );
  }
  return {
    project: checked("project", project, /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, '"my-project" (6–30 characters of a-z, 0-9 and -)'),
    region: checked("region", region, /^[a-z]+-[a-z]+\d+$/, '"us-central1"'),
    authClient: options.authClient,
    endpoints: checkedEndpoints(options.endpoints ?? endpointsFromEnv()),
    runtime: checkedRuntime(options.runtime),
    serviceAccount:
      options.serviceAccount === undefined
        ? undefined
        : checked(
            "serviceAccount",
            options.serviceAccount,
            /^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$|^[^@\s]+@developer\.gserviceaccount\.com$/,
            'an e-mail such as "runner@my-project.iam.gserviceaccount.com"',
          ),
    bucket:
      options.bucket === undefined
        ? env("FAASADE_GCP_BUCKET")
        : checked("bucket", options.bucket, /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, "a bucket name"),
    retentionMs: atLeastOne("gcp", "retentionMs", options.retentionMs ?? envMs("FAASADE_GCP_RETENTION_MS") ?? SEVEN_DAYS, true),
    prefix: checked(
      "prefix",
      options.prefix ?? env("FAASADE_GCP_PREFIX") ?? "faasade",
      /^[a-z][a-z0-9-]{0,19}$/,
      '"faasade" (a letter, then up to 19 of a-z, 0-9 and -)',
    ),
    maxInFlight: atLeastOne("gcp", "maxInFlight", options.maxInFlight ?? 64, true),
    fanOutFrom: atLeastOne("gcp", "fanOutFrom", options.fanOutFrom ?? Number.POSITIVE_INFINITY, false),
  };
}

function checked(name: string, value: unknown, pattern: RegExp, example: string): string {
  if (typeof value !== "string" || !pattern.test(value))
    throw new InvalidError(`gcp: ${name} must be ${example}, got ${describe(value)}`);
  return value;
}

function checkedRuntime(runtime: unknown): GcpRuntime {
  if (runtime === undefined) return "nodejs22";
  if (runtime === "nodejs20" || runtime === "nodejs18")
    throw new InvalidError(
      `gcp: runtime ${JSON.stringify(runtime)} is decommissioned on Cloud Functions; use "nodejs22" (the default) or "nodejs24"`,
    );
  if (!(RUNTIMES as readonly unknown[]).includes(runtime))
    throw new InvalidError(`gcp: runtime must be one of ${RUNTIMES.join(", ")}, got ${describe(runtime)}`);
  return runtime as GcpRuntime;
}

/** The services whose endpoint can be set. */
const SERVICES = ["functions", "tasks", "storage", "run"] as const satisfies readonly (keyof GcpEndpoints)[];
const isService = (name: string): name is (typeof SERVICES)[number] => (SERVICES as readonly string[]).includes(name);

/** `FAASADE_GCP_ENDPOINT_<SERVICE>`: how another process (a deployed function, a CLI) is pointed at the same stand-ins. */
export function endpointsFromEnv(vars: NodeJS.ProcessEnv = process.env): GcpEndpoints {
  return Object.fromEntries(SERVICES.map((s) => [s, vars[`FAASADE_GCP_ENDPOINT_${s.toUpperCase()}`] || undefined]));
}

function checkedEndpoints(endpoints: unknown): GcpEndpoints {
  if (endpoints === undefined) return {};
  if (endpoints === null || typeof endpoints !== "object")
    throw new InvalidError(`gcp: endpoints must be an object, got ${describe(endpoints)}`);
  const out: GcpEndpoints = {};
  for (const [service, url] of Object.entries(endpoints)) {
    if (!isService(service))
      throw new InvalidError(`gcp: endpoints has no service ${JSON.stringify(service)}; known: ${SERVICES.join(", ")}`);
    if (url === undefined) continue;
    if (typeof url !== "string" || !/^https?:\/\/[^/\s]+\/?$/.test(url))
      throw new InvalidError(`gcp: endpoints.${service} must be a URL such as "http://127.0.0.1:8085", got ${describe(url)}`);
    out[service] = url.replace(/\/$/, "");
  }
  return out;
}
