/** The options of `azure()`, checked up front, and their defaults from the variables Azure's own tools set. */
import type { TokenCredential } from "@azure/core-auth";
import { envEndpoints, fromEnv, required } from "../../cloud/env.js";
import { endpointUrls, oneOf, optionsObject, patternRules, sharedCloudOptions } from "../../cloud/options.js";
import { InvalidError, describe } from "../../core/errors.js";

/** The hosting plans faasade deploys to: Flex Consumption (FC1), or Elastic Premium (EP1–EP3). */
export const PLANS = ["flex", "premium"] as const;
export type AzurePlan = (typeof PLANS)[number];

/** Where each Azure service is reached, for a loopback stand-in or a sovereign cloud. */
export interface AzureEndpoints {
  /** Azure Resource Manager. @default https://management.azure.com */
  arm?: string | undefined;
  /**
   * Where function apps answer: `<functions>/<site>/api/...` instead of `https://<defaultHostName>/api/...`
   * (a loopback host stand-in). @default each app's own host name, as ARM reports it
   */
  functions?: string | undefined;
}

/** The storage account holding queues, results and packages: a connection string, or an account reached with the credential. */
export interface AzureStorage {
  /** A connection string (a key, a SAS, or azurite's). @default FAASADE_AZURE_STORAGE_CONNECTION_STRING, else AZURE_STORAGE_CONNECTION_STRING, else FAASADE_AZURE_STORAGE (the setting deployed apps get) */
  connectionString?: string | undefined;
  /** The account's name, reached with `credential` (needs the data roles docs/azure.md lists). @default FAASADE_AZURE_STORAGE_ACCOUNT, else AZURE_STORAGE_ACCOUNT, else FAASADE_AZURE_STORAGE__accountName */
  accountName?: string | undefined;
}

export interface AzureOptions {
  /** The subscription. @default AZURE_SUBSCRIPTION_ID */
  subscriptionId?: string;
  /** The resource group everything is made in (it must exist). @default FAASADE_AZURE_RESOURCE_GROUP, else AZURE_RESOURCE_GROUP */
  resourceGroup?: string;
  /** The region of the function apps. @default FAASADE_AZURE_REGION, else AZURE_LOCATION, else AZURE_REGION */
  region?: string;
  /** Credentials for ARM (and storage, by account name). @default DefaultAzureCredential from @azure/identity */
  credential?: TokenCredential;
  /** The storage account. One of its two forms is required. */
  storage?: AzureStorage;
  /** The hosting plan of deployed apps. @default FAASADE_AZURE_PLAN, else "flex" */
  plan?: AzurePlan;
  /** Endpoint overrides. @default FAASADE_AZURE_ENDPOINT_ARM, _FUNCTIONS, else Azure's */
  endpoints?: AzureEndpoints;
  /** How long spawned results are kept. @default FAASADE_AZURE_RETENTION_MS, else 7 days */
  retentionMs?: number;
  /** Prefix of every resource name. @default FAASADE_AZURE_PREFIX, else "faasade" */
  prefix?: string;
  /** HTTPS calls in flight at once from this process. @default 64 */
  maxInFlight?: number;
  /** A map whose first batch has at least this many inputs goes through the storage queue. @default never */
  fanOutFrom?: number;
}

/** The options with every default filled in and every value checked. */
export type ResolvedAzureOptions = ReturnType<typeof resolveAzureOptions>;

const SERVICES = ["arm", "functions"] as const satisfies readonly (keyof AzureEndpoints)[];
const SUBSCRIPTION_VARS = ["AZURE_SUBSCRIPTION_ID"];
const GROUP_VARS = ["FAASADE_AZURE_RESOURCE_GROUP", "AZURE_RESOURCE_GROUP"];
const GUID = "00000000-0000-0000-0000-000000000000";
/** The storage account by connection string, or by name; each ends with the setting deployed apps get. */
const CONNECTION_VARS = ["FAASADE_AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_CONNECTION_STRING", "FAASADE_AZURE_STORAGE"];
const ACCOUNT_VARS = ["FAASADE_AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_ACCOUNT", "FAASADE_AZURE_STORAGE__accountName"];

/** Each name option's rule, and the example its message gives. */
const RULES = {
  subscriptionId: [/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/, `a GUID such as ${GUID}`],
  resourceGroup: [/^[-\w.()]{1,89}[-\w()]$/, '"my-group" (up to 90 letters, digits, -, _, ., ( and ), not ending in .)'],
  region: [/^[a-z]+[a-z0-9]*$/, '"westeurope" (an Azure region name)'],
  prefix: [/^[a-z][a-z0-9]{0,11}$/, '"faasade" (a letter, then up to 11 of a-z and 0-9)'],
} as const;
const check = patternRules("azure", RULES);
const checkAccount = patternRules("azure", { accountName: [/^[a-z0-9]{3,24}$/, '"mystorage" (3–24 of a-z and 0-9)'] } as const);
const KNOWN = [...Object.keys(RULES), "credential", "storage", "plan", "endpoints", "retentionMs", "maxInFlight", "fanOutFrom"];

export function resolveAzureOptions(options: AzureOptions) {
  optionsObject("azure", options, KNOWN);
  const subscriptionId = required("azure", "subscriptionId", options.subscriptionId, SUBSCRIPTION_VARS, "subscription", GUID);
  const resourceGroup = required("azure", "resourceGroup", options.resourceGroup, GROUP_VARS, "resource group", "my-group");
  return {
    subscriptionId: check("subscriptionId", subscriptionId),
    resourceGroup: check("resourceGroup", resourceGroup),
    region: checkedRegion(options.region ?? fromEnv("FAASADE_AZURE_REGION", "AZURE_LOCATION", "AZURE_REGION")),
    credential: options.credential,
    storage: checkedStorage(options.storage),
    plan: oneOf("azure", "plan", options.plan ?? fromEnv("FAASADE_AZURE_PLAN") ?? "flex", PLANS),
    endpoints: endpointUrls("azure", options.endpoints ?? endpointsFromEnv(), SERVICES) as AzureEndpoints,
    prefix: check("prefix", options.prefix ?? fromEnv("FAASADE_AZURE_PREFIX") ?? "faasade"),
    ...sharedCloudOptions("azure", options),
  };
}

/** The region is needed only to deploy: a client of deployed apps finds them without it. */
const checkedRegion = (region: string | undefined) => (region === undefined ? undefined : check("region", region));

function checkedStorage(storage: AzureStorage | undefined): { connectionString: string } | { accountName: string } {
  if (storage !== undefined) optionsObject("azure storage", storage, ["connectionString", "accountName"]);
  // An account name given in code wins over a connection string from the environment.
  const fromVars = storage?.accountName === undefined ? fromEnv(...CONNECTION_VARS) : undefined;
  const connectionString = storage?.connectionString ?? fromVars;
  if (connectionString !== undefined) {
    if (typeof connectionString !== "string" || !/AccountName=|UseDevelopmentStorage=true|BlobEndpoint=/i.test(connectionString))
      throw new InvalidError(
        `azure: storage.connectionString must be a storage connection string ("DefaultEndpointsProtocol=https;AccountName=...;AccountKey=..."), got a ${typeof connectionString === "string" ? `string of ${connectionString.length} characters without AccountName` : describe(connectionString)}`,
      );
    return { connectionString };
  }
  const accountName = storage?.accountName ?? fromEnv(...ACCOUNT_VARS);
  if (accountName === undefined)
    throw new InvalidError(
      "azure: no storage account is set: set FAASADE_AZURE_STORAGE_CONNECTION_STRING (or FAASADE_AZURE_STORAGE_ACCOUNT, reached with the credential), or pass azure({ storage: { connectionString } }) in code",
    );
  return { accountName: checkAccount("accountName", accountName) };
}

/** `FAASADE_AZURE_ENDPOINT_<SERVICE>`: how another process (a deployed function, a CLI) is pointed at the same stand-ins. */
export const endpointsFromEnv = (vars: NodeJS.ProcessEnv = process.env): AzureEndpoints =>
  envEndpoints(SERVICES, "FAASADE_AZURE_ENDPOINT_", vars);
