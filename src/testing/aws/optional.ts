/**
 * The packages the offline AWS backend runs on, imported when a backend starts: `faasade/testing`
 * itself needs none of them, and a missing one is an error that says what to install.
 */
import { ExecutionError } from "../../core/errors.js";

/** Each optional package, at the version the project tests with. */
export const PINNED = {
  fauxqs: "fauxqs@1.9.2",
  "@smithy/eventstream-codec": "@smithy/eventstream-codec@4.5.2",
  "@smithy/util-utf8": "@smithy/util-utf8@4.5.2",
  "aws-lambda-ric": "aws-lambda-ric@4.0.2",
  "@aws-sdk/client-s3": "@aws-sdk/client-s3",
  "@aws-sdk/client-sqs": "@aws-sdk/client-sqs",
  "@aws-sdk/client-lambda": "@aws-sdk/client-lambda",
  tsx: "tsx",
} as const;

export type OptionalPackage = keyof typeof PINNED;

export const installHint = (name: OptionalPackage) => `npm i -D ${PINNED[name]}`;

export const missing = (name: OptionalPackage, cause?: unknown) =>
  new ExecutionError(`startTestBackend("aws") needs ${name}: ${installHint(name)}`, { cause });

/** `load()` (an `import()` of `name`), with a missing package reported as `missing(name)`. */
export async function need<T>(name: OptionalPackage, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") throw missing(name, cause);
    throw cause;
  }
}
