/**
 * The dashboard's live feed, as Server-Sent Events: `stats` (every function's) each second, and
 * `calls` (the summaries of calls made or changed) within a quarter of a second of a change.
 * A page that sees both never needs to reload.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DashboardSource, FunctionRef } from "./source.js";

/** Which calls a feed tells of: a function's (`?fn=<env>/<app>/<fn>`), none (`?calls=none`), or every function's. */
export type CallsWatched = FunctionRef | "all" | "none";

const STATS_EVERY_MS = 1_000;
const CALLS_EVERY_MS = 250;
/** A burst of changes is sent in pages of this many summaries. */
const CALLS_PER_EVENT = 200;

export function serveEvents(req: IncomingMessage, res: ServerResponse, source: DashboardSource, watched: CallsWatched): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  const send = (event: string, data: unknown) => {
    if (!res.writableEnded && !res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const failed = (err: unknown) => send("problem", { error: (err as Error)?.message ?? String(err) });
  const changed = new Set<string>();
  const unwatch =
    watched === "none" ? () => {} : source.watchCalls((id) => changed.add(id), watched === "all" ? undefined : watched);
  const sendStats = () => source.stats().then((stats) => send("stats", { stats }), failed);
  const sendCalls = () => {
    if (changed.size === 0) return;
    const ids = [...changed].slice(0, CALLS_PER_EVENT);
    for (const id of ids) changed.delete(id);
    source.summaries(ids).then((calls) => send("calls", { calls }), failed);
  };
  res.write("retry: 1000\n\n");
  void sendStats();
  const statsTimer = setInterval(sendStats, STATS_EVERY_MS);
  const callsTimer = setInterval(sendCalls, CALLS_EVERY_MS);
  const stop = () => {
    clearInterval(statsTimer);
    clearInterval(callsTimer);
    unwatch();
  };
  req.on("close", stop);
  res.on("close", stop);
  res.on("error", stop);
}
