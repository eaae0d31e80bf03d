/**
 * `providerOptions.aws` of a function (what AWS alone has: layers, an execution role, ...) and
 * the Lambda settings a function deploys with, all checked before deploy makes anything.
 */
import { InvalidError, describe } from "../../../core/errors.js";
import type { FunctionManifest } from "../../../core/manifest.js";

export type Architecture = "arm64" | "x86_64";

/** `providerOptions: { aws: {...} }` of a function. See docs/aws.md for each key. */
export interface AwsFunctionOptions {
  /** Lambda memory, 128–10 240 MB; overrides the function's `memoryMb`. */
  memoryMb?: number;
  /** @default the provider's `architecture` */
  architecture?: Architecture;
  /** Lambda layer version ARNs, at most 5, in order. */
  layers?: string[];
  /** Extra Lambda environment variables, merged over the function's `env` (FAASADE_* are faasade's). */
  environment?: Record<string, string>;
  /** An existing execution role for this function instead of the app's. */
  role?: string;
  /** Size of `/tmp`, 512–10 240 MB. @default 512 */
  ephemeralStorageMb?: number;
}

/** What one function's Lambda is made with. */
export interface LambdaSettings {
  memoryMb: number;
  architecture: Architecture;
  layers: string[];
  /** The function's `env` with `providerOptions.aws.environment` over it (faasade's own added later). */
  environment: Record<string, string>;
  /** The function's own role, when it names one. */
  role: string | undefined;
  ephemeralStorageMb: number;
  /** Lambda's timeout, in seconds: the function's plus a margin, so the runtime's own timeout answers first. */
  timeoutS: number;
}

const KNOWN_KEYS = ["memoryMb", "architecture", "layers", "environment", "role", "ephemeralStorageMb"] as const;
const ARCHITECTURES: readonly string[] = ["arm64", "x86_64"];
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const LAYER_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[\w-]{1,140}:\d+$/;
/** Lambda's rule for variable names. */
const ENV_NAME = /^[a-zA-Z][a-zA-Z0-9_]+$/;
/** Set by Lambda itself: a function may not set them. */
const LAMBDA_RESERVED = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
]);
/** How long Lambda lets the runtime run past an attempt's timeout: the runtime's own timeout answers first. */
const TIMEOUT_MARGIN_S = 1;
/** Lambda runs 15 minutes at most; the margin above must fit. */
const MAX_TIMEOUT_MS = 899_000;

/** The function's Lambda settings; `InvalidError` naming the function and key for anything AWS would refuse. */
export function lambdaSettings(fn: FunctionManifest, defaults: { memoryMb: number; architecture: Architecture }): LambdaSettings {
  const where = `function ${JSON.stringify(fn.name)}`;
  const aws = awsOptionsOf(fn, where);
  const key = (k: keyof AwsFunctionOptions) => `${where}: providerOptions.aws.${k}`;
  if (fn.options.timeoutMs > MAX_TIMEOUT_MS) {
    throw new InvalidError(
      `${where}: Lambda runs at most 15 minutes; timeoutMs ${fn.options.timeoutMs} is above ${MAX_TIMEOUT_MS}`,
    );
  }
  const memoryMb = aws.memoryMb ?? fn.options.memoryMb ?? defaults.memoryMb;
  if (aws.memoryMb !== undefined) integer(key("memoryMb"), aws.memoryMb, 128, 10_240);
  else integer(`${where}: memoryMb (Lambda's range)`, memoryMb, 128, 10_240);
  if (aws.architecture !== undefined && !ARCHITECTURES.includes(aws.architecture)) {
    throw new InvalidError(`${key("architecture")} must be "arm64" or "x86_64", got ${describe(aws.architecture)}`);
  }
  if (aws.ephemeralStorageMb !== undefined) integer(key("ephemeralStorageMb"), aws.ephemeralStorageMb, 512, 10_240);
  if (aws.role !== undefined && (typeof aws.role !== "string" || !ROLE_ARN.test(aws.role))) {
    throw new InvalidError(
      `${key("role")} must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got ${describe(aws.role)}`,
    );
  }
  return {
    memoryMb,
    architecture: aws.architecture ?? defaults.architecture,
    layers: layersOf(key("layers"), aws.layers),
    environment: environmentOf(where, key("environment"), fn.options.env, aws.environment),
    role: aws.role,
    ephemeralStorageMb: aws.ephemeralStorageMb ?? 512,
    timeoutS: Math.ceil(fn.options.timeoutMs / 1000) + TIMEOUT_MARGIN_S,
  };
}

function awsOptionsOf(fn: FunctionManifest, where: string): AwsFunctionOptions {
  const aws = fn.options.providerOptions?.aws;
  if (aws === undefined) return {};
  if (typeof aws !== "object" || aws === null || Array.isArray(aws)) {
    throw new InvalidError(`${where}: providerOptions.aws must be an object, got ${describe(aws)}`);
  }
  for (const k of Object.keys(aws)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(k)) {
      throw new InvalidError(
        `${where}: unknown providerOptions.aws key ${JSON.stringify(k)}; the known keys are ${KNOWN_KEYS.join(", ")}`,
      );
    }
  }
  return aws as AwsFunctionOptions;
}

function integer(what: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidError(`${what} must be an integer between ${min} and ${max}, got ${describe(value)}`);
  }
}

function layersOf(what: string, layers: unknown): string[] {
  if (layers === undefined) return [];
  if (!Array.isArray(layers)) throw new InvalidError(`${what} must be an array of layer version ARNs, got ${describe(layers)}`);
  if (layers.length > 5) throw new InvalidError(`${what}: Lambda takes at most 5 layers, got ${layers.length}`);
  layers.forEach((arn: unknown, i) => {
    if (typeof arn !== "string" || !LAYER_ARN.test(arn)) {
      throw new InvalidError(
        `${what}[${i}] must be a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>), got ${describe(arn)}`,
      );
    }
  });
  if (new Set(layers).size !== layers.length) throw new InvalidError(`${what} names a layer twice: ${JSON.stringify(layers)}`);
  return [...(layers as string[])];
}

function environmentOf(
  where: string,
  what: string,
  env: Readonly<Record<string, string>>,
  extra: unknown,
): Record<string, string> {
  if (extra !== undefined && (typeof extra !== "object" || extra === null || Array.isArray(extra))) {
    throw new InvalidError(`${what} must be an object of strings, got ${describe(extra)}`);
  }
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (typeof value !== "string") throw new InvalidError(`${what}.${name} must be a string, got ${describe(value)}`);
    if (name.startsWith("FAASADE_")) {
      throw new InvalidError(`${what}.${name}: FAASADE_* variables are faasade's own and cannot be set`);
    }
  }
  const merged = { ...env, ...(extra as Record<string, string> | undefined) };
  for (const name of Object.keys(merged)) {
    const from = extra !== undefined && name in extra ? `${what}.${name}` : `${where}: env.${name}`;
    if (!ENV_NAME.test(name)) {
      throw new InvalidError(`${from}: ${JSON.stringify(name)} is not a Lambda variable name (letters, digits, _; 2 or more)`);
    }
    if (LAMBDA_RESERVED.has(name)) throw new InvalidError(`${from}: ${name} is set by Lambda itself and cannot be set`);
  }
  return merged;
}
