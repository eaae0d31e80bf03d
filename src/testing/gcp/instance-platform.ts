/**
 * The store and queue of an offline backend's function instances (FAASADE_GCP_PLATFORM names
 * this module): Cloud Storage and Cloud Tasks on the backend's test doubles, reached through the
 * endpoints the backend puts in every instance's environment. Calls made inside a function go to
 * the same backend (`faasade/gcp` made known under its name).
 */
import { provideModule } from "../../core/providers.js";
import { gcpClients } from "../../providers/gcp/clients.js";
import { deployedPlatform } from "../../providers/gcp/deployed.js";
import { gcpProvider } from "../../providers/gcp/platform.js";
import { idTokenDouble } from "./id-tokens.js";
import { loopbackAuth } from "./loopback-auth.js";

const config = JSON.parse(process.env.FAASADE_GCP_BACKEND ?? "{}") as BackendConfig;

/** What the backend tells each instance, as JSON in FAASADE_GCP_BACKEND. */
export interface BackendConfig {
  project: string;
  region: string;
  prefix: string;
  retentionMs: number;
  serviceAccount: string;
  endpoints: { storage: string; tasks: string; functions: string };
  /** The ID-token signer's key (hex): calls made inside a function sign with it. */
  tokenKey: string;
}

const sdk = gcpClients({ project: config.project, endpoints: config.endpoints, authClient: loopbackAuth });
const tokens = idTokenDouble(Buffer.from(config.tokenKey ?? "", "hex"));
const providerOptions = {
  project: config.project,
  region: config.region,
  prefix: config.prefix,
  retentionMs: config.retentionMs,
  serviceAccount: config.serviceAccount,
  endpoints: config.endpoints,
  authClient: loopbackAuth,
};
provideModule("gcp", { defaultProvider: () => gcpProvider(providerOptions, undefined, { idToken: (a) => tokens.idToken(a) }) });

// The deployed runtime's own store and queues, on the doubles' endpoints.
export const { store, queue } = deployedPlatform({ ...process.env, FAASADE_GCP_SERVICE_ACCOUNT: config.serviceAccount }, sdk);
