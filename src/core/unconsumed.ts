/** One warning for each map result that is never iterated: the work it describes never runs. */
interface Tracked {
  started: boolean;
  warned: boolean;
  readonly what: string;
}

const pending = new Set<Tracked>();
const registry = new FinalizationRegistry<Tracked>((tracked) => report(tracked));
let hooked = false;

function report(tracked: Tracked): void {
  pending.delete(tracked);
  if (tracked.started || tracked.warned) return;
  tracked.warned = true;
  process.emitWarning(`${tracked.what} was never iterated, so none of its inputs ran`, {
    code: "FAASADE_UNCONSUMED_MAP",
  });
}

/** Returns a marker to flip when iteration starts. */
export function trackUnconsumed(target: object, what: string): { started: boolean } {
  const tracked: Tracked = { started: false, warned: false, what };
  pending.add(tracked);
  registry.register(target, tracked);
  if (!hooked) {
    hooked = true;
    // A warning emitted from an `exit` handler never prints; `beforeExit` still can.
    process.on("beforeExit", () => {
      for (const t of [...pending]) report(t);
    });
  }
  return tracked;
}

/** Forgets a map whose iteration started. */
export function markStarted(marker: { started: boolean }): void {
  marker.started = true;
  pending.delete(marker as Tracked);
}
