/**
 * `updateAutoscaler`, `keepWarm` and `getCurrentStats`: the core validates and merges, the
 * provider applies. Settings start as the definition's options; each update is a partial one
 * over the last effective settings, checked whole before anything changes.
 */
import { ExecutionError, InvalidError, describe } from "./errors.js";
import { type AutoscalerSettings, checkAutoscaler } from "./options.js";
import type { AutoscalerKey, EffectiveAutoscaler, FunctionSpec, FunctionStats, Provider } from "./provider.js";
import { rideThrough } from "./transport.js";

const KEYS: readonly AutoscalerKey[] = ["minContainers", "maxContainers", "bufferContainers", "scaledownWindowMs"];

/** The last settings applied to each function definition in this process. */
const applied = new WeakMap<FunctionSpec, AutoscalerSettings>();

function settingsOf(spec: FunctionSpec): AutoscalerSettings {
  const { minContainers, maxContainers, bufferContainers, scaledownWindowMs } = spec.options;
  return applied.get(spec) ?? { minContainers, maxContainers, bufferContainers, scaledownWindowMs };
}

export async function updateAutoscaler(
  spec: FunctionSpec,
  provider: Provider,
  patch: Partial<AutoscalerSettings>,
  method = "updateAutoscaler",
): Promise<EffectiveAutoscaler> {
  const where = `function ${JSON.stringify(spec.name)}: ${method}`;
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
    throw new InvalidError(`${where}: expected an object of settings, got ${describe(patch)}`);
  }
  const read = provider.autoscalerSettings?.bind(provider);
  const base = read === undefined ? settingsOf(spec) : await rideThrough(() => read(spec));
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (!KEYS.includes(key as AutoscalerKey)) {
      throw new InvalidError(`${where}: unknown setting ${JSON.stringify(key)}; expected one of ${KEYS.join(", ")}`);
    }
    if (value !== undefined) merged[key] = value;
  }
  const settings = checkAutoscaler(where, merged as { [K in AutoscalerKey]: unknown });
  if (provider.updateAutoscaler === undefined) {
    applied.set(spec, settings);
    // Recorded, but this provider has no autoscaler: say so rather than pretend.
    return { ...settings, maxContainers: settings.maxContainers ?? Number.POSITIVE_INFINITY, unsupported: [...KEYS] };
  }
  const update = provider.updateAutoscaler.bind(provider);
  const effective = await rideThrough(() => update(spec, settings));
  applied.set(spec, settings);
  return effective;
}

export async function currentStats(spec: FunctionSpec, provider: Provider): Promise<FunctionStats> {
  if (provider.getCurrentStats === undefined) {
    throw new ExecutionError(`getCurrentStats: the ${provider.name} provider cannot report stats`);
  }
  const stats = provider.getCurrentStats.bind(provider);
  const { backlog, numTotalRunners, numRunningInputs } = await rideThrough(() => stats(spec));
  return { backlog, numTotalRunners, numRunningInputs };
}
