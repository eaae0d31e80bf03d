/**
 * Azurite keeps Blob and Queue metadata in LokiJS collections, and two of Loki's paths make most requests
 * cost time in proportion to what the account holds (a 5 000-message backlog slowed each Delete Message past
 * ten milliseconds, so azurite, not faasade, set the pace of a 10 000-spawn benchmark):
 *
 * - removing a batch (`remove([...])`, `findAndRemove`) rebuilds every binary index of the collection by a
 *   full sort, even for an empty batch, and azurite removes a batch on every queue request (its sweep of
 *   expired messages) and on every message it deletes (the message's extent);
 * - a query uses a binary index only for its first condition, and azurite's queries start with
 *   `accountName`, which every document shares, so finding one blob or message scans them all.
 *
 * These patches change nothing of what is removed or found: an empty batch removes nothing; a batch of one
 * goes through Loki's own single-document removal, which updates the indexes in place; and a query with an
 * equality on a selective indexed field is first narrowed by that index, then every one of its conditions
 * is applied as before. Documents are found in collection order (unpatched, several documents matching one
 * query come in the `accountName` index's order: collection order after a rebuild, newest first between
 * rebuilds; azurite's lookups of one document, by name and snapshot or by id, match one).
 * Applied by azurite-main.ts, the process azurite runs in (a test stand-in: never a user's program).
 */

/** What the patches touch of LokiJS 1.5 (azurite's dependency). */
interface LokiCollection {
  data: { $loki: number }[];
  binaryIndices: Record<string, unknown>;
  remove(doc: unknown): unknown;
}
interface LokiResultset {
  collection: LokiCollection;
  filterInitialized: boolean;
  filteredrows: number[];
}
type Find = (this: LokiResultset, query: unknown, firstOnly?: boolean) => LokiResultset;
type RemoveBatch = (this: LokiCollection, batch: unknown[]) => void;
export interface LokiModule {
  Collection: { prototype: { removeBatch: RemoveBatch; removeBatchByPositions: (this: LokiCollection, p: number[]) => void } };
  Resultset: { prototype: { find: Find } };
}

/**
 * Fields azurite indexes that tell its documents apart (a blob's, container's or queue's name, a message's
 * id, a block's blob, an extent's id), most selective first.
 */
const SELECTIVE = ["messageId", "id", "name", "blobName"] as const;
const PATCHED = Symbol.for("faasade.lokiSpeedups");

/** Patches `loki` (the module azurite loads) once; later calls do nothing. */
export function speedUpLoki(loki: LokiModule): void {
  const marked = loki as unknown as Record<symbol, boolean>;
  if (marked[PATCHED]) return;
  marked[PATCHED] = true;
  const collection = loki.Collection.prototype;
  const removeBatch = collection.removeBatch;
  collection.removeBatch = function (batch) {
    if (batch.length === 0) return;
    const one = batch.length === 1 ? batch[0] : undefined;
    // A document of the collection or its $loki id, as Loki's single removal takes them.
    if (typeof one === "number" || (typeof one === "object" && one !== null && "$loki" in one)) return void this.remove(one);
    removeBatch.call(this, batch);
  };
  const removeByPositions = collection.removeBatchByPositions;
  collection.removeBatchByPositions = function (positions) {
    if (positions.length === 0) return;
    const doc = positions.length === 1 ? this.data[positions[0] as number] : undefined;
    if (doc !== undefined) return void this.remove(doc);
    removeByPositions.call(this, positions);
  };
  const find = loki.Resultset.prototype.find;
  loki.Resultset.prototype.find = function (query, firstOnly) {
    const key = this.filterInitialized ? undefined : narrowingKey(this.collection, query);
    if (key === undefined) return find.call(this, query, firstOnly);
    // The index's equality is Loki's loose one ("1" matches 1): it only narrows; the query then decides.
    find.call(this, { [key]: (query as Record<string, unknown>)[key] });
    this.filteredrows.sort((a, b) => a - b);
    return find.call(this, query, firstOnly);
  };
}

/** The selective indexed field a query of several conditions compares for equality with a string, if any. */
function narrowingKey(collection: LokiCollection, query: unknown): string | undefined {
  if (query === null || typeof query !== "object" || Array.isArray(query)) return undefined;
  const q = query as Record<string, unknown>;
  if (Object.keys(q).length < 2) return undefined;
  return SELECTIVE.find((k) => typeof q[k] === "string" && collection.binaryIndices[k] !== undefined);
}
