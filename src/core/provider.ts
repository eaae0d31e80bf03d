/**
 * The provider interface: the few primitives a platform translates. Every semantic
 * (retries, timeouts' meaning, map windows, ordering, gather) lives in the core;
 * docs/providers.md explains each member for provider authors.
 */
import type { InputInfo } from "./call-graph.js";
import type { AppManifest } from "./manifest.js";
import type { AutoscalerSettings, ResolvedOptions } from "./options.js";

/** Frozen object whose values are the names: `InputStatus.SUCCESS === "SUCCESS"`. */
export const InputStatus = Object.freeze({
  PENDING: "PENDING",
  SUCCESS: "SUCCESS",
  FAILURE: "FAILURE",
  TERMINATED: "TERMINATED",
  TIMEOUT: "TIMEOUT",
  INIT_FAILURE: "INIT_FAILURE",
} as const);
export type InputStatus = (typeof InputStatus)[keyof typeof InputStatus];

/** What a provider needs to know about a function to run it. */
export interface FunctionSpec {
  readonly app: string;
  readonly environment: string;
  readonly name: string;
  /** URL of the module that defines the function; containers import it. */
  readonly module: string;
  readonly isGenerator: boolean;
  readonly options: ResolvedOptions;
}

/** One attempt of one input, as sent to a provider. `args` are codec bytes of the argument array. */
export interface Input {
  readonly inputId: string;
  readonly callId: string;
  readonly attempt: number;
  readonly args: Uint8Array;
  readonly parentInputId?: string | undefined;
}

/** The end of one attempt. Errors travel as codec bytes and are rebuilt by the core. */
export interface Outcome {
  readonly inputId: string;
  readonly attempt: number;
  readonly status: Exclude<InputStatus, "PENDING">;
  /** SUCCESS: codec bytes of the result. */
  readonly value?: Uint8Array | undefined;
  /** FAILURE: codec bytes of what the user's code threw (or, with `userError: false`, of a faasade error). */
  readonly error?: Uint8Array | undefined;
  /** False when `error` is faasade's own (a result that could not be encoded, say). @default true */
  readonly userError?: boolean | undefined;
  /** What happened, for failures without `error`: a crash, a timeout, an init failure. */
  readonly message?: string | undefined;
  /** The container that ran the attempt. */
  readonly taskId?: string | undefined;
}

/**
 * Where a provider reports what happens to the inputs of one `submit`. `input` is the very
 * object that was submitted: the core finds its state on it, with no lookup by id.
 */
export interface OutcomeSink {
  outcome(input: Input, outcome: Outcome): void;
  /** A value yielded by a generator input, in order. */
  chunk(input: Input, attempt: number, value: Uint8Array): void;
}

/** The autoscaler settings a provider applies: the definition's, then every `updateAutoscaler`. */
export type { AutoscalerSettings };
export type AutoscalerKey = keyof AutoscalerSettings;

/** What `updateAutoscaler` resolves with: the effective settings, all numbers, and what the provider cannot honour. */
export interface EffectiveAutoscaler {
  minContainers: number;
  maxContainers: number;
  bufferContainers: number;
  scaledownWindowMs: number;
  /** Settings the provider cannot honour: accepted and recorded, but without effect there. */
  unsupported: AutoscalerKey[];
}

/** `getCurrentStats()`: exactly these three numbers. */
export interface FunctionStats {
  /** Inputs waiting: queued, or handed to a container that has not started them. */
  backlog: number;
  /** Live containers, busy or idle (starting ones included). */
  numTotalRunners: number;
  /** Inputs executing now. */
  numRunningInputs: number;
}

export interface AbortOptions {
  /** Stop the containers running these inputs at once; their other inputs run again elsewhere. */
  terminateContainers?: boolean;
}

/** What a durable call store says of a call. */
export interface CallState {
  state: "pending" | "done" | "expired";
  /** The function's name, for error messages. */
  fn: string;
  isGenerator: boolean;
  /** When `done`: the final outcome. */
  outcome?: Outcome | undefined;
}

/**
 * Durable calls (deployments): a spawn is acknowledged once stored, and any process reads the
 * call by id. Unknown ids reject with `NotFoundError`.
 */
export interface CallStore {
  /** Whether `cancel` honours `terminateContainers` (the core refuses it otherwise). @default false */
  readonly canTerminateContainers?: boolean;
  spawn(fn: FunctionSpec, input: Input): Promise<void>;
  /**
   * The id of a call about to be spawned, where the store names its calls so that it can list them
   * (a cloud's: by function, newest first). @default `fc-` and a UUID
   */
  newCallId?(fn: FunctionSpec): string;
  /** The call now, or once it changes within `waitMs`. */
  state(callId: string, waitMs: number): Promise<CallState>;
  /** A generator call's values from `from` on (waiting up to `waitMs` for one), and its state. */
  chunks(callId: string, from: number, waitMs: number): Promise<CallState & { chunks: Uint8Array[] }>;
  cancel(callId: string, options: AbortOptions): Promise<void>;
  callGraph(callId: string): Promise<InputInfo[]>;
}

export interface Provider {
  readonly name: string;
  /**
   * Queues inputs of one function. Every input gets exactly one outcome per attempt, through
   * `sink`, unless it is aborted. Inputs the provider could not start (a container died before
   * they began) are rescheduled by the provider without a new attempt.
   */
  submit(fn: FunctionSpec, inputs: readonly Input[], sink: OutcomeSink): void;
  /**
   * Drops queued inputs and aborts running ones; no outcome follows for them. With
   * `terminateContainers` (only if `canTerminateContainers`), the containers running them stop
   * at once and their other inputs are rescheduled without a new attempt.
   */
  abort(fn: FunctionSpec, inputIds: readonly string[], options?: AbortOptions): void;
  /** Stops containers and releases resources. */
  close(): Promise<void>;

  // Optional capabilities. The core reports a missing one to the caller; it never ignores it.

  /** Whether `abort` honours `terminateContainers`. @default false */
  readonly canTerminateContainers?: boolean;
  /**
   * Applies validated, merged settings (warm containers start at once; lowered limits drain
   * without killing running inputs) and reports the effective ones. Absent: every setting is
   * reported unsupported.
   */
  updateAutoscaler?(fn: FunctionSpec, settings: AutoscalerSettings): Promise<EffectiveAutoscaler>;
  /** Exact where the platform knows, documented as approximate where it does not. */
  getCurrentStats?(fn: FunctionSpec): Promise<FunctionStats>;
  /** The settings in force, where they live with the provider (a deployment); the base of a partial update. */
  autoscalerSettings?(fn: FunctionSpec): Promise<AutoscalerSettings>;
  /** Deployed functions by name; `NotFoundError` when missing. */
  lookup?(app: string, environment: string, name: string): Promise<FunctionSpec>;
  /** Durable spawns readable from any process. */
  readonly calls?: CallStore;
  /** The URL of a deployed web function; `undefined`: not deployed there. */
  webUrl?(fn: FunctionSpec): string | undefined | Promise<string | undefined>;
  /** Deployments on this provider: what `faasade deploy`, `destroy` and `ls` ask for. */
  readonly deployer?: Deployer;
}

/** One deployed function, as `faasade deploy` prints it. */
export interface DeployedFunction {
  name: string;
  /** The web function's URL. */
  webUrl?: string | undefined;
  /** The platform's name for it (a Lambda function, say), where it has one. */
  resource?: string | undefined;
}

/** A deployed app, as `faasade ls` lists it. */
export interface DeployedApp extends AppManifest {
  /** Milliseconds since the epoch. */
  deployedAt: number;
  /** False when the app is stored but nothing serves it now (a stopped local deployment server). */
  serving?: boolean;
}

export interface DeployOptions {
  /** Progress lines, for a TTY. */
  log?: (line: string) => void;
}

/**
 * The deployment capability of a provider: the CLI reaches every provider through it. Each
 * operation is idempotent; `destroy` removes exactly what `deploy` made with the same options.
 */
export interface Deployer {
  /** Deploys the apps that `module` (a file path) defines, described by their manifests. */
  deploy(
    module: string,
    apps: AppManifest[],
    options?: DeployOptions,
  ): Promise<{ app: AppManifest; functions: DeployedFunction[] }[]>;
  destroy(app: string, environment: string, options?: DeployOptions): Promise<void>;
  list(): Promise<DeployedApp[]>;
}
