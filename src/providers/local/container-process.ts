/**
 * The OS process behind a local container: forked with the function's environment and the
 * names it imports by, its stderr passed through (the tail kept, to tell why it died), and
 * held to the caller's process only while it has work.
 */
import { type ChildProcess, fork } from "node:child_process";
import type { FunctionSpec } from "../../core/provider.js";
import { CONTAINER_ARG, ENV } from "./protocol.js";
import { runtimeFor } from "./runtime-target.js";
import { WIRE_DIR_ENV, wireDir } from "./spill.js";

const STDERR_TAIL = 4000;

export interface ContainerProcess {
  readonly child: ChildProcess;
  /** The last few KB the container wrote to stderr. */
  stderrTail(): string;
}

export function forkContainer(spec: FunctionSpec, taskId: string, execArgv: string[]): ContainerProcess {
  const runtime = runtimeFor(spec.module);
  const child = fork(runtime.file, [CONTAINER_ARG], {
    execArgv: [...runtime.flags, ...execArgv],
    stdio: ["ignore", "inherit", "pipe", "ipc"],
    env: {
      ...process.env,
      ...spec.options.env,
      [ENV.taskId]: taskId,
      [WIRE_DIR_ENV]: wireDir(),
      [ENV.module]: spec.module,
      [ENV.app]: spec.app,
      [ENV.environment]: spec.environment,
      [ENV.fn]: spec.name,
      FAASADE_MAX_INPUTS: String(spec.options.maxInputs),
    },
  });
  let tail = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString()).slice(-STDERR_TAIL);
  });
  return { child, stderrTail: () => tail };
}

/** A busy container keeps the caller's process alive; an idle one never does. */
export function holdProcess(child: ChildProcess, on: boolean): void {
  type Refable = { ref?: () => void; unref?: () => void } | null | undefined;
  const handles = [child.channel as Refable, child.stderr as Refable];
  if (on) {
    child.ref();
    for (const h of handles) h?.ref?.();
  } else {
    child.unref();
    for (const h of handles) h?.unref?.();
  }
}
