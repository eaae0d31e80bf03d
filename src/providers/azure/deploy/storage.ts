/**
 * What an app keeps in its storage account: per function its queue and poison queue, per app and
 * environment a blob container (the calls' objects and the manifest `fromName` and `destroy` read), per
 * function app a deployment container (Flex keeps the package there), and one lifecycle rule of the
 * account's management policy deleting the calls' objects after the retention. The account's policy is
 * one document shared with the user's rules: faasade's rule is merged into it, never replacing the rest.
 * The policy is read from the account of that name in the deploy's resource group.
 */
import type { ManagementPolicyRule } from "@azure/arm-storage";
import { ExecutionError } from "../../../core/errors.js";
import type { AppManifest } from "../../../core/manifest.js";
import { keysIn } from "../../../cloud/keys.js";
import { shortHash } from "../../../cloud/names.js";
import { azureCall, isNotFound } from "../clients.js";
import { type AppRef, containerName, poisonQueueName, queueName } from "../names.js";
import type { AzureDeployContext } from "./context.js";
import { sameJson } from "./site.js";

const DAY_MS = 24 * 3600 * 1000;
/** Every prefix keysIn (src/cloud/keys.ts) writes calls under; the manifest and settings never expire. */
const EXPIRING = ["results/", "chunks/", "calls/", "graph/", "cancel/", "payloads/", "retried/", "started/", "map-results/"];
const POLICY = "default";

/** The manifest's key in the app's own container. */
export const manifestKey = (ref: AppRef) => keysIn("").manifest(ref);

/** The queue of a function's spawned inputs and the host's poison queue beside it; missing ones made. */
export async function ensureQueues(ctx: AzureDeployContext, ref: AppRef, fn: string): Promise<void> {
  const queues = await ctx.sdk.queues();
  for (const name of [queueName(ref, fn), poisonQueueName(queueName(ref, fn))])
    await azureCall(`create the queue ${name}`, () => queues.getQueueClient(name).createIfNotExists());
}

export async function removeQueues(ctx: AzureDeployContext, ref: AppRef, fn: string): Promise<void> {
  const queues = await ctx.sdk.queues();
  for (const name of [queueName(ref, fn), poisonQueueName(queueName(ref, fn))])
    await azureCall(`delete the queue ${name}`, () => queues.getQueueClient(name).deleteIfExists());
}

/** A blob container, made when missing; answers its URL. */
export async function ensureContainer(ctx: AzureDeployContext, name: string): Promise<string> {
  const container = (await ctx.sdk.blobs()).getContainerClient(name);
  await azureCall(`create the container ${name}`, () => container.createIfNotExists());
  return container.url;
}

export async function removeContainer(ctx: AzureDeployContext, name: string): Promise<void> {
  const container = (await ctx.sdk.blobs()).getContainerClient(name);
  await azureCall(`delete the container ${name}`, () => container.deleteIfExists());
}

/** Writes the app's manifest unless it is already there as is; true when written. */
export async function putManifest(ctx: AzureDeployContext, ref: AppRef, app: AppManifest): Promise<boolean> {
  const body = JSON.stringify(app);
  if ((await manifestText(ctx, ref)) === body) return false;
  const blob = (await ctx.sdk.blobs()).getContainerClient(containerName(ref)).getBlockBlobClient(manifestKey(ref));
  await azureCall(`write the manifest of ${ref.app}`, () =>
    blob.upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: "application/json" } }),
  );
  return true;
}

/** The app's manifest, or undefined when it is not deployed (no container or no manifest). */
export async function readManifest(ctx: AzureDeployContext, ref: AppRef): Promise<AppManifest | undefined> {
  const text = await manifestText(ctx, ref);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as AppManifest;
  } catch (cause) {
    throw new ExecutionError(`${containerName(ref)}/${manifestKey(ref)} is not a faasade manifest (not JSON)`, { cause });
  }
}

/** The manifest's text and when it was written, or undefined. */
export async function manifestBlob(ctx: AzureDeployContext, container: string, key: string) {
  const blob = (await ctx.sdk.blobs()).getContainerClient(container).getBlobClient(key);
  return azureCall(`read ${container}/${key}`, async () => {
    try {
      const bytes = await blob.downloadToBuffer();
      const { lastModified } = await blob.getProperties();
      return { text: bytes.toString("utf8"), modifiedAt: lastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
}

const manifestText = async (ctx: AzureDeployContext, ref: AppRef) =>
  (await manifestBlob(ctx, containerName(ref), manifestKey(ref)))?.text;

/** faasade's rule of an app's container: letters and digits only (the policy's rule names), unique per container. */
export const ruleName = (container: string) =>
  `faasade${container.replace(/[^a-z0-9]/g, "").slice(0, 40)}${shortHash(container, 8)}`;

/** Deletes the calls' objects of `container` `ceil(retentionMs / 1 day)` days after they were written. */
export function lifecycleRule(container: string, retentionMs: number): ManagementPolicyRule {
  return {
    name: ruleName(container),
    enabled: true,
    type: "Lifecycle",
    definition: {
      filters: { blobTypes: ["blockBlob"], prefixMatch: EXPIRING.map((p) => `${container}/${p}`) },
      actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: Math.max(1, Math.ceil(retentionMs / DAY_MS)) } } },
    },
  };
}

async function policyRules(ctx: AzureDeployContext): Promise<ManagementPolicyRule[] | undefined> {
  const accounts = await ctx.storageAccounts();
  const { resourceGroup } = ctx.options;
  const policy = await azureCall(`get the management policy of ${ctx.sdk.accountName}`, async () => {
    try {
      return await accounts.managementPolicies.get(resourceGroup, ctx.sdk.accountName, POLICY);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  });
  return policy?.policy?.rules;
}

/** Sets faasade's rule for `container` in the account's policy (`rule` undefined: removes it); true when the policy was written. */
export async function ensureLifecycleRule(
  ctx: AzureDeployContext,
  container: string,
  rule: ManagementPolicyRule | undefined,
): Promise<boolean> {
  const found = await policyRules(ctx);
  const name = ruleName(container);
  const others = (found ?? []).filter((r) => r.name !== name);
  const rules = rule === undefined ? others : [...others, rule];
  const mine = (found ?? []).find((r) => r.name === name);
  if (rule === undefined ? mine === undefined : mine !== undefined && sameJson(mine, rule)) return false;
  const accounts = await ctx.storageAccounts();
  const { resourceGroup } = ctx.options;
  const account = ctx.sdk.accountName;
  ctx.log(`${rule === undefined ? "removing" : "setting"} the lifecycle rule of ${container}`);
  // A policy holds at least one rule: without any left, it goes.
  if (rules.length === 0)
    await azureCall(`delete the management policy of ${account}`, () =>
      accounts.managementPolicies.delete(resourceGroup, account, POLICY),
    );
  else
    await azureCall(`set the management policy of ${account}`, () =>
      accounts.managementPolicies.createOrUpdate(resourceGroup, account, POLICY, { policy: { rules } }),
    );
  return true;
}
