/**
 * How faasade names what it makes on Azure, so that any process finds an app's resources from its name alone:
 * one blob container per app and environment; per function, one function app (with its Flex plan and its
 * deployment container) and one storage queue (with its poison queue, `<queue>-poison`).
 */
import { type CloudAppRef, fittedName, shortHash } from "../../cloud/names.js";

export interface AppRef extends CloudAppRef {
  subscriptionId: string;
  resourceGroup: string;
}

/** `text` in Azure Storage's rules (a-z, 0-9 and single hyphens, a letter or digit at each end) within `max` characters. */
export function storageName(text: string, max: number): string {
  const fitted = fittedName(text, max)
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
  return fitted.length >= 3 ? fitted : `${fitted}-${shortHash(text, 4)}`;
}

/** A queue name leaves room for "-poison" (queue names are at most 63 characters). */
const QUEUE_MAX = 63 - "-poison".length;

/**
 * The function app of one function: a global DNS name (at most 60 characters), so it ends in a hash of the
 * subscription and resource group; its Flex plan and deployment container have the same name.
 */
export const siteName = (r: AppRef, fn: string) =>
  `${storageName(`${r.prefix}-${r.environment}-${r.app}-${fn}`, 53)}-${shortHash(`${r.subscriptionId}/${r.resourceGroup}`, 6)}`;

/** The storage queue of one function's spawned inputs (unique within the storage account). */
export const queueName = (r: CloudAppRef, fn: string) => storageName(`${r.prefix}-${r.environment}-${r.app}-${fn}`, QUEUE_MAX);

/** Where the Functions host moves a message it failed to process `maxDequeueCount` times. */
export const poisonQueueName = (queue: string) => `${queue}-poison`;

/** The blob container of an app and environment (unique within the storage account). */
export const containerName = (r: CloudAppRef) => storageName(`${r.prefix}-${r.environment}-${r.app}`, 63);
