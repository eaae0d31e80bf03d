/**
 * One function of an app on AWS: its queue (queue.ts), its Lambda with version and alias
 * (code.ts), the event source mapping and concurrency (capacity.ts) and, for web functions, its
 * URL (url.ts); and its removal, for destroy and for functions an app no longer has.
 */
import type { AppManifest, FunctionManifest } from "../../../core/manifest.js";
import { ALIAS, functionName } from "../names.js";
import { readSettings, removeSettings } from "./bucket.js";
import type { Bundle } from "../../../cloud/bundle.js";
import { type Capacity, ensureConcurrency, ensureMapping } from "./capacity.js";
import { ensureCode } from "./code.js";
import type { AppScope, DeployContext } from "./context.js";
import type { LambdaSettings } from "./function-options.js";
import { ensureQueue, removeQueues } from "./queue.js";
import { read, remove } from "./requests.js";
import { ensureUrl } from "./url.js";

export interface DeployedFunction {
  name: string;
  functionName: string;
  /** The function URL of a web function. */
  webUrl?: string | undefined;
}

export interface FunctionTarget {
  app: AppManifest;
  scope: AppScope;
  /** The execution role: the function's own, the one given, or the one faasade made. */
  role: string;
  code: Bundle;
  settings: LambdaSettings;
  tags: Record<string, string>;
}

export async function deployFunction(ctx: DeployContext, t: FunctionTarget, fn: FunctionManifest): Promise<DeployedFunction> {
  const name = functionName(t.scope.ref, fn.name);
  ctx.log(`function ${name}`);
  const queueArn = await ensureQueue(ctx, name, fn.name, t.settings.timeoutS, t.tags);
  const functionArn = await ensureCode(ctx, { ...t, name, fn });
  const capacity = await capacityOf(ctx, t.scope, fn);
  await ensureMapping(ctx, queueArn, `${functionArn}:${ALIAS}`, capacity);
  await ensureConcurrency(ctx, name, capacity);
  const webUrl = await ensureUrl(ctx, name, fn.options.web);
  return { name: fn.name, functionName: name, webUrl };
}

/** The definition's capacity, unless `updateAutoscaler` stored settings: those outlive redeploys, as on local deployments. */
async function capacityOf(ctx: DeployContext, scope: AppScope, fn: FunctionManifest): Promise<Capacity> {
  const stored = await readSettings(ctx, scope, fn.name);
  const from = stored ?? fn.options;
  return { minContainers: from.minContainers, maxContainers: from.maxContainers ?? undefined };
}

/** Removes a function's mappings, Lambda (versions, alias, URL and concurrency go with it), queues and stored settings. */
export async function removeFunction(ctx: DeployContext, scope: AppScope, fn: string): Promise<void> {
  const { L } = ctx;
  const name = functionName(scope.ref, fn);
  ctx.log(`removing ${name}`);
  const lambda = await ctx.sdk.lambda();
  const mappings = await read(`ListEventSourceMappings ${name}:${ALIAS}`, () =>
    lambda.send(new L.ListEventSourceMappingsCommand({ FunctionName: `${name}:${ALIAS}` })),
  );
  for (const m of mappings?.EventSourceMappings ?? []) {
    await remove(`DeleteEventSourceMapping ${m.UUID}`, () =>
      lambda.send(new L.DeleteEventSourceMappingCommand({ UUID: m.UUID })),
    );
  }
  await remove(`DeleteFunction ${name}`, () => lambda.send(new L.DeleteFunctionCommand({ FunctionName: name })));
  await removeQueues(ctx, name);
  await removeSettings(ctx, scope, fn);
}
