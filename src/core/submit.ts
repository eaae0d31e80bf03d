/**
 * Submitting one input of a handle: its arguments encoded once, the call recorded in the call
 * graph where it can be asked for, and its attempts (retries, stale outcomes) started.
 */
import { Attempts, type Pending, newPending } from "./attempts.js";
import { recordCall } from "./call-graph.js";
import { encode } from "./codec.js";
import { newCallId, newInputId } from "./ids.js";
import type { Target } from "./map.js";
import type { Outcome } from "./provider.js";

/** Submits one input and resolves with its final outcome. */
export function runOne(target: Target, args: unknown[], callId: string | undefined): Promise<Outcome> {
  return new Promise((resolve) => start(target, args, { settle: (_, o) => resolve(o) }, callId));
}

export function start(
  target: Target,
  args: unknown[],
  handlers: { settle(input: Pending, o: Outcome): void; chunk?(input: Pending, v: Uint8Array): void },
  callId = newCallId(),
  isRoot = false,
): { attempts: Attempts } {
  const bytes = encode(args, "args");
  // Spawns can be asked for their graph; calls made inside an input belong to their parent's.
  const graphed = isRoot || target.parentInputId !== undefined;
  if (graphed) recordCall(callId, target.parentInputId, target.spec);
  const attempts = new Attempts(target.provider, target.spec, handlers, graphed);
  attempts.submit([newPending(newInputId(), callId, bytes, 0, target.parentInputId)]);
  return { attempts };
}
