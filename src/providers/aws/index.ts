/**
 * @module
 * The AWS provider (`faasade/aws`): functions run in Lambda. The cloud layer (src/cloud/) does
 * the work; platform.ts names AWS's parts for it. Names follow names.ts, so any process finds an
 * app from its name. docs/aws.md.
 */
import { lazyDeployer } from "../../cloud/provider.js";
import { prefixOf } from "./names.js";
import { type AwsOptions, type AwsProvider, awsProvider } from "./platform.js";

export type { AwsOptions, AwsProvider } from "./platform.js";
export type { AwsDeployOptions, AwsFunctionOptions, DestroyAws } from "./deploy/resources.js";

export function aws(options: AwsOptions = {}): AwsProvider {
  // Deploying (bundling, the control plane) loads only when asked for.
  const deployer = lazyDeployer(async () =>
    (await import("./deployer.js")).awsDeployer({
      ...options,
      prefix: prefixOf(options.prefix),
    }),
  );
  return awsProvider(options, deployer);
}

/** `FAASADE_PROVIDER=aws`: the provider with its defaults from the environment. */
export const defaultProvider = (): AwsProvider => aws();
