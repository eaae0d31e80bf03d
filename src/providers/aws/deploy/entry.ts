/**
 * The AWS side of the shared bundler (src/cloud/bundle.ts): the bundle's entry, which exports
 * Lambda's handlers, and what Lambda's Node runtimes provide.
 */
import type { BundleOptions } from "../../../cloud/bundle.js";

/** Lambda's Node runtimes ship the AWS SDK v3. */
const LAMBDA_PROVIDED = ["@aws-sdk/*"];

/**
 * `index.handler` and `index.stream`. The app's module is imported through the runtime's
 * `appModule` as the bundle loads (esbuild inlines the literal import as a lazy module), so a
 * module that throws as it imports answers INIT_FAILURE instead of leaving a dead environment.
 */
export function lambdaEntry(modulePath: string): string {
  return [
    'import { appModule, handler as faasadeHandler, streamHandler } from "faasade/aws/runtime";',
    `appModule(() => import(${JSON.stringify(modulePath)}));`,
    "export const handler = faasadeHandler;",
    "export const stream = globalThis.awslambda?.streamifyResponse ? globalThis.awslambda.streamifyResponse(streamHandler) : streamHandler;",
  ].join("\n");
}

/** The bundle of `module` for a Lambda function of `architecture`. */
export function lambdaBundle(module: string, architecture: "arm64" | "x86_64", external?: string[]): BundleOptions {
  return {
    module,
    entry: lambdaEntry,
    platform: { os: "linux", cpu: architecture === "arm64" ? "arm64" : "x64" },
    provided: LAMBDA_PROVIDED,
    ...(external ? { external } : {}),
  };
}
