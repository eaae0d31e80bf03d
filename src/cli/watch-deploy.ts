/**
 * One deploy for `serve --watch`: `faasade deploy <file>` in a child process (a fresh import of
 * the file and everything it imports, which this process could not do again), against the same
 * FAASADE_HOME, with module hooks that record the files it imported (watch-hooks.ts). A failure is
 * one line: the error's class and message, and where in the user's files it happened.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
const REGISTER = new URL("./watch-register.js", import.meta.url).href;
/** faasade's own compiled sources: frames there are not where a user's error is. */
const OWN = new URL("../", import.meta.url).href;
/** A deploy imports the user's file: one whose top level never settles must not stop the watch for ever. */
const DEPLOY_TIMEOUT_MS = 120_000;

/** What `deploy --json` prints for each app. */
export interface DeployedJson {
  app: string;
  environment: string;
  functions: { name: string; webUrl?: string }[];
}

export type DeployRun = { ok: true; apps: DeployedJson[]; files: string[] } | { ok: false; error: string; files: string[] };

export interface DeployTarget {
  file: string;
  home: string;
  environment: string;
}

/** Deploys `target.file` in a child process; `changed` are the files whose change led to it (where to look for a syntax error first). */
export async function deployInChild(target: DeployTarget, changed: readonly string[] = []): Promise<DeployRun> {
  const dir = mkdtempSync(join(tmpdir(), "faasade-watch-"));
  const loaded = join(dir, "loaded");
  try {
    const args = [...process.execArgv, "--import", REGISTER, MAIN, "deploy", target.file];
    args.push("--json", "--verbose", "--provider", "local", "--env", target.environment);
    const env = { ...process.env, FAASADE_HOME: target.home, FAASADE_WATCH_LOADED: loaded };
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const options = { env, timeout: DEPLOY_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 };
      const child = execFile(process.execPath, args, options, (err, out, errOut) => {
        process.off("exit", end);
        resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout: out, stderr: errOut });
      });
      const end = () => child.kill(); // Ctrl-C of serve ends a deploy under way too
      process.once("exit", end);
    });
    const files = readLoaded(loaded);
    if (code === 0) return { ok: true, apps: parseApps(stdout), files };
    const error = stderr.trim() === "" ? `the deploy exited with code ${code} and said nothing` : deployFailure(stderr);
    const located =
      /^SyntaxError: /.test(error) && !/ \(at .+\)$/.test(error) ? await syntaxLocation([...changed, ...files]) : undefined;
    return { ok: false, error: located === undefined ? error : `${error} (at ${located})`, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readLoaded(file: string): string[] {
  try {
    const urls = readFileSync(file, "utf8").split("\n").filter(Boolean);
    return [...new Set(urls.map((u) => fileURLToPath(u)))];
  } catch {
    return [];
  }
}

function parseApps(stdout: string): DeployedJson[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as DeployedJson);
}

/**
 * The one line of a failed `deploy --verbose`: the error's first stack line (its class and
 * message, a message of several lines folded into one), and the first frame in a user's file.
 */
export function deployFailure(stderr: string): string {
  const lines = stderr.split(/\r?\n/);
  const first = lines.findIndex((l) => l.startsWith("faasade: "));
  if (first < 0)
    return (
      lines
        .filter((l) => l.trim() !== "")
        .at(-1)
        ?.trim() ?? "the deploy failed"
    );
  const rest = lines.slice(first + 1);
  const frames = rest.findIndex((l) => /^\s+at /.test(l) || l.startsWith("Caused by: "));
  const message = [(lines[first] as string).slice("faasade: ".length), ...(frames < 0 ? rest : rest.slice(0, frames))]
    .map((l) => l.trim())
    .filter(Boolean)
    .join(" ");
  const frame = (frames < 0 ? [] : rest.slice(frames))
    .map((l) => /^\s+at (?:.*\()?(file:\/\/[^)\s]+:\d+:\d+)\)?$/.exec(l)?.[1])
    .find((url) => url !== undefined && !url.includes("/node_modules/") && !url.startsWith(OWN));
  return frame === undefined ? message : `${message} (at ${frameLocation(frame)})`;
}

/** `file:///a/b.mjs:3:7` as `/a/b.mjs:3:7`. */
function frameLocation(url: string): string {
  const [, file, position] = /^(.*?)((?::\d+){2})$/.exec(url) ?? [];
  return file === undefined ? url : `${fileURLToPath(file)}${position}`;
}

/**
 * Where a SyntaxError is, which Node's error for a failed import does not say: `node --check` of
 * each JavaScript file (those that changed first) until one fails; `path:line`.
 */
async function syntaxLocation(files: readonly string[]): Promise<string | undefined> {
  const candidates = [...new Set(files)].filter((f) => /\.(m|c)?js$/.test(f)).slice(0, 20);
  for (const file of candidates) {
    const stderr = await new Promise<string>((resolve) => {
      execFile(process.execPath, ["--check", file], { timeout: 10_000 }, (err, _out, errOut) => resolve(err ? errOut : ""));
    });
    const where = /^(.+:\d+)$/m.exec(stderr)?.[1];
    if (where !== undefined) return where;
  }
  return undefined;
}
