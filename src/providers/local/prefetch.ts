/**
 * How many inputs a pool sends each container ahead of time: about PREFETCH_MS of measured work,
 * free slots before prefetch, and none beyond the free slots to a stalled container.
 */
import type { Container } from "./container.js";

/** Work queued ahead of each container, by measured run time (ms). */
const PREFETCH_MS = 50;
/** Most inputs in one message to a container. */
export const MAX_BATCH = 512;

/** Inputs a container should hold: `maxInputs` until a run time is measured, then PREFETCH_MS of work per slot. */
export function prefetchDepth(estimateMs: number | undefined, maxInputs: number): number {
  if (estimateMs === undefined) return maxInputs;
  const perInput = Math.max(1, Math.min(MAX_BATCH, Math.ceil(PREFETCH_MS / estimateMs)));
  return perInput * maxInputs;
}

/**
 * How many more inputs a container holding `load` takes now. The first pass fills free slots (fewer
 * than `maxInputs`) and the second tops up prefetch, so a lone input goes to an idle container before
 * it queues behind a busy one. A stalled container gets free slots only: whatever it prefetched would
 * wait behind the long input it runs. A prefetch is topped up once half the `depth` is free: each
 * refill is a message both processes handle between two inputs, so a container running short inputs
 * gets a few large refills rather than one after every report (docs/performance.md, "The burn").
 */
export function room(c: Container, depth: number, maxInputs: number, stallMs: number, prefetch: boolean): number {
  const free = maxInputs - c.load;
  if (c.stalled(stallMs)) return prefetch ? 0 : free;
  if (!prefetch) return free > 0 ? depth - c.load : 0;
  return (depth - c.load) * 2 >= depth ? depth - c.load : 0;
}

/**
 * The most one container takes from the pool's backlog in a prefetch top-up: an even share among the
 * containers taking prefetch. A map's last inputs are then spread over its containers instead of
 * queued behind the one that reported first, which finished up to ~25 inputs after the others (about
 * half of that as lost throughput at the end of a map). A large backlog is never held back by it.
 */
export function fairShare(backlog: number, takers: number): number {
  return Math.ceil(backlog / Math.max(1, takers));
}
