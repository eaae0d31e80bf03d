/**
 * What every execution environment of a backend starts from: AWS's runtime interface client
 * (aws-lambda-ric), a task root holding the `index.mjs` that a deployed bundle would have (the
 * runtime's handlers beside the app's module), and the Node flags (tsx for TypeScript modules).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ExecutionError } from "../../core/errors.js";
import { installHint, missing } from "./optional.js";

export interface TaskRoot {
  /** LAMBDA_TASK_ROOT: the folder with index.mjs, also each environment's working directory. */
  dir: string;
  /** aws-lambda-ric's entry, which `node` runs as the environment's process. */
  ricEntry: string;
  /** Node flags before the entry: `--import <tsx>` for a TypeScript app. */
  execArgv: string[];
  remove(): Promise<void>;
}

export const isTypeScript = (url: string) => /\.(c|m)?tsx?$/.test(new URL(url).pathname);

const RUNTIME_URL = new URL("../../providers/aws/runtime.js", import.meta.url).href;

export async function makeTaskRoot(moduleUrl: string): Promise<TaskRoot> {
  const ricEntry = resolveRic();
  const execArgv = isTypeScript(moduleUrl) ? ["--import", tsxLoader(moduleUrl)] : [];
  const dir = await mkdtemp(join(tmpdir(), "faasade-lambda-task-"));
  // The app's module is imported during init, as a deployed bundle imports it statically; an
  // import that fails is kept by appModule and answered as INIT_FAILURE, not a broken init.
  const index = [
    `import { appModule, handler as h, streamHandler } from ${JSON.stringify(RUNTIME_URL)};`,
    `const load = () => import(${JSON.stringify(moduleUrl)});`,
    "appModule(load);",
    "await load().catch(() => {});",
    "export const handler = h;",
    "export const stream = globalThis.awslambda.streamifyResponse(streamHandler);",
    "",
  ].join("\n");
  await writeFile(join(dir, "index.mjs"), index);
  return { dir, ricEntry, execArgv, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** aws-lambda-ric's entry, checked to have the native client its install scripts build. */
function resolveRic(): string {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve("aws-lambda-ric");
  } catch (cause) {
    throw missing("aws-lambda-ric", cause);
  }
  if (!existsSync(join(dirname(entry), "rapid-client.node"))) {
    throw new ExecutionError(
      `aws-lambda-ric at ${dirname(entry)} has no rapid-client.node: it was installed without its install ` +
        `scripts, which build it (they need cmake, make and g++): npm rebuild aws-lambda-ric, or ${installHint("aws-lambda-ric")}`,
    );
  }
  return entry;
}

/** tsx's loader (what `--import tsx` loads), found from the app's module first, then from faasade. */
function tsxLoader(moduleUrl: string): string {
  for (const base of [moduleUrl, import.meta.url]) {
    try {
      return pathToFileURL(createRequire(fileURLToPath(base)).resolve("tsx")).href;
    } catch {
      // try the next place
    }
  }
  throw new ExecutionError(`${moduleUrl} is TypeScript: its Lambda environments run it with tsx: ${installHint("tsx")}`);
}
