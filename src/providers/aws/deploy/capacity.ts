/**
 * How much of a function runs: the event source mapping from its queue (spawned inputs), and its
 * concurrency: `minContainers` is provisioned concurrency on the alias, `maxContainers` reserved
 * concurrency. Both converge: a setting no longer asked for is removed.
 */
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { ALIAS } from "../names.js";
import type { DeployContext } from "./context.js";
import { read, remove, request } from "./requests.js";

export interface Capacity {
  minContainers: number;
  maxContainers: number | undefined;
}

/** Spawned inputs: the queue drives the alias, one input per invocation, reporting partial batch failures. */
export async function ensureMapping(ctx: DeployContext, queueArn: string, aliasArn: string, capacity: Capacity): Promise<void> {
  const { L } = ctx;
  const lambda = await ctx.sdk.lambda();
  // SQS mappings run at least 2 at once.
  const concurrency = Math.min(1000, Math.max(2, capacity.maxContainers ?? 1000));
  const mappings = await request(`ListEventSourceMappings ${aliasArn}`, () =>
    lambda.send(new L.ListEventSourceMappingsCommand({ EventSourceArn: queueArn, FunctionName: aliasArn })),
  );
  const mapping = mappings.EventSourceMappings?.[0];
  if (mapping === undefined) {
    await request(`CreateEventSourceMapping ${aliasArn}`, () =>
      lambda.send(
        new L.CreateEventSourceMappingCommand({
          EventSourceArn: queueArn,
          FunctionName: aliasArn,
          // One input per invocation: each keeps its own timeout (timeoutMs + 1 s), and a slow
          // input never holds back others received with it.
          BatchSize: 1,
          FunctionResponseTypes: ["ReportBatchItemFailures"],
          ScalingConfig: { MaximumConcurrency: concurrency },
        }),
      ),
    );
  } else if (mapping.ScalingConfig?.MaximumConcurrency !== concurrency) {
    await request(`UpdateEventSourceMapping ${mapping.UUID}`, () =>
      lambda.send(
        new L.UpdateEventSourceMappingCommand({ UUID: mapping.UUID, ScalingConfig: { MaximumConcurrency: concurrency } }),
      ),
    );
  }
}

/**
 * Provisioned concurrency can never exceed reserved: a lower provisioned figure is set before the
 * reserved one changes, a higher one after.
 */
export async function ensureConcurrency(ctx: DeployContext, name: string, capacity: Capacity): Promise<void> {
  const { L } = ctx;
  const lambda = await ctx.sdk.lambda();
  const provisioned = await read(`GetProvisionedConcurrencyConfig ${name}:${ALIAS}`, () =>
    lambda.send(new L.GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: ALIAS })),
  );
  const current = provisioned?.RequestedProvisionedConcurrentExecutions ?? 0;
  const wanted = capacity.minContainers;
  if (wanted < current) await setProvisioned(ctx, lambda, name, wanted);
  const reserved = await request(`GetFunctionConcurrency ${name}`, () =>
    lambda.send(new L.GetFunctionConcurrencyCommand({ FunctionName: name })),
  );
  const { maxContainers } = capacity;
  if (maxContainers === undefined && reserved.ReservedConcurrentExecutions !== undefined) {
    await remove(`DeleteFunctionConcurrency ${name}`, () =>
      lambda.send(new L.DeleteFunctionConcurrencyCommand({ FunctionName: name })),
    );
  } else if (maxContainers !== undefined && reserved.ReservedConcurrentExecutions !== maxContainers) {
    await request(`PutFunctionConcurrency ${name}`, () =>
      lambda.send(new L.PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: maxContainers })),
    );
  }
  // A config that asks for the figure wanted (even one still allocating) is left alone.
  if (wanted > current) await setProvisioned(ctx, lambda, name, wanted);
}

async function setProvisioned(ctx: DeployContext, lambda: LambdaClient, name: string, n: number): Promise<void> {
  const { L } = ctx;
  if (n === 0) {
    await remove(`DeleteProvisionedConcurrencyConfig ${name}:${ALIAS}`, () =>
      lambda.send(new L.DeleteProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: ALIAS })),
    );
    return;
  }
  await request(`PutProvisionedConcurrencyConfig ${name}:${ALIAS}`, () =>
    lambda.send(
      new L.PutProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: ALIAS, ProvisionedConcurrentExecutions: n }),
    ),
  );
}
