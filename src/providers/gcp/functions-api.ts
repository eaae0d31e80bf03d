/** What faasade reads and changes of a deployed function through the Cloud Functions v2 API. */
import type { AutoscalerKey, AutoscalerSettings } from "../../core/provider.js";
import { type GcpClients, gcpCall } from "./clients.js";

/** What a deployed function is reached by: its URL, and the account Cloud Tasks signs its ID tokens as. */
export interface Deployed {
  url: string;
  serviceAccount: string | undefined;
  minInstances: number;
}

/** Google's default maximum of instances for a 2nd gen function. */
const DEFAULT_MAX = 100;

export async function readDeployed(sdk: GcpClients, name: string): Promise<Deployed> {
  const functions = await sdk.functions();
  const [found] = await gcpCall(`GetFunction ${name}`, () => functions.getFunction({ name }));
  const url = found.url ?? found.serviceConfig?.uri;
  if (!url) throw new Error(`gcp function ${name} has no URL yet (state ${String(found.state)})`);
  return {
    url,
    serviceAccount: found.serviceConfig?.serviceAccountEmail ?? undefined,
    minInstances: Number(found.serviceConfig?.minInstanceCount ?? 0),
  };
}

/** min/max instances through UpdateFunction with an update mask, waited for. */
export async function setInstances(
  sdk: GcpClients,
  name: string,
  settings: AutoscalerSettings,
): Promise<{ maxContainers: number; unsupported: AutoscalerKey[] }> {
  const functions = await sdk.functions();
  const maxInstanceCount = settings.maxContainers ?? DEFAULT_MAX;
  const [op] = await gcpCall(`UpdateFunction ${name} (autoscaler)`, () =>
    functions.updateFunction({
      function: { name, serviceConfig: { minInstanceCount: settings.minContainers, maxInstanceCount } },
      updateMask: { paths: ["service_config.min_instance_count", "service_config.max_instance_count"] },
    }),
  );
  await gcpCall(`UpdateFunction ${name} (waiting)`, () => op.promise());
  // Cloud Run keeps no idle buffer beside busy instances, and scales idle ones down on its own clock.
  return { maxContainers: maxInstanceCount, unsupported: ["bufferContainers", "scaledownWindowMs"] };
}
