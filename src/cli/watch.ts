/**
 * `faasade serve --watch <file>`: deploys the file, then again whenever it or a file it imports
 * (outside node_modules) changes, into the server `serve` runs. The set of files is what the last
 * deploy really imported, so an import added or removed is watched or forgotten from the next
 * deploy on. Changes within DEBOUNCE_MS make one deploy; a change during a deploy makes one more
 * after it. A failed deploy (a syntax error, a throw at the top level) is one line, and the code
 * deployed before keeps serving. The server's redeploy lets inputs in flight finish on the old code.
 */
import { type FSWatcher, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { Io } from "./command.js";
import { type DeployRun, type DeployTarget, deployInChild } from "./watch-deploy.js";

const DEBOUNCE_MS = 200;

export interface Watching {
  /** Files watched now. */
  files(): string[];
  close(): void;
}

export async function serveWatching(file: string, io: Io, home: string, port: number): Promise<Watching> {
  const target: DeployTarget = { file: resolve(file), home, environment: io.options.env };
  const watcher = new FileSet(() => schedule());
  let files = new Set([target.file]);
  let timer: NodeJS.Timeout | undefined;
  let deploying = false;
  let again = false;
  let deployed = false;

  const deployNow = async () => {
    if (deploying) {
      again = true;
      return;
    }
    deploying = true;
    do {
      again = false;
      const run = await deployInChild(target, watcher.takeChanged());
      report(run, deployed, file, io);
      deployed ||= run.ok;
      // A failed import stopped early: keep watching what the last good deploy imported too.
      files = new Set([target.file, ...(run.ok ? [] : files), ...run.files]);
      watcher.set(files);
    } while (again);
    deploying = false;
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void deployNow(), DEBOUNCE_MS);
  };

  watcher.set(files);
  await deployNow();
  const url = `http://127.0.0.1:${port}`;
  io.out(
    io.json
      ? JSON.stringify({ serving: url, watching: [...files] })
      : `serving on ${url} until Ctrl-C; watching ${files.size} file${files.size === 1 ? "" : "s"} for changes`,
  );
  return {
    files: () => [...files],
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

/** One line per app deployed (the first deploy as `deploy` prints it), or the error in one line. */
function report(run: DeployRun, redeploy: boolean, file: string, io: Io): void {
  if (!run.ok) {
    const after = redeploy ? "the code deployed before still serves" : "save a fix to deploy it";
    if (io.json) io.out(JSON.stringify({ error: run.error, redeploy }));
    else process.stderr.write(`faasade: ${redeploy ? "redeploy" : "deploy"} of ${file} failed: ${run.error}; ${after}\n`);
    return;
  }
  for (const { app, environment, functions } of run.apps) {
    if (io.json) io.out(JSON.stringify({ app, environment, provider: "local", functions, redeploy }));
    else if (redeploy) io.out(`redeployed ${app} (${functions.length} function${functions.length === 1 ? "" : "s"})`);
    else {
      io.out(`deployed ${app} (${environment}) on local`);
      for (const f of functions) io.out(`  ${f.name}${f.webUrl ? `  ${f.webUrl}` : ""}`);
    }
  }
}

/**
 * Watches a set of files through their directories: an editor that saves by writing a new file
 * and renaming it over the old one (a new inode) is still seen, as a file watcher would not be.
 */
class FileSet {
  private readonly dirs = new Map<string, FSWatcher>();
  private files = new Set<string>();
  private changed = new Set<string>();

  constructor(private readonly onChange: () => void) {}

  set(files: ReadonlySet<string>): void {
    this.files = new Set(files);
    const wanted = new Set([...files].map((f) => dirname(f)));
    for (const [dir, w] of this.dirs) {
      if (!wanted.has(dir)) {
        w.close();
        this.dirs.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (this.dirs.has(dir)) continue;
      try {
        const w = watch(dir, (_event, name) => this.seen(dir, name));
        w.on("error", () => this.dirs.delete(dir)); // removed: watched again once a deploy imports from it
        this.dirs.set(dir, w);
      } catch {
        // a directory that is gone: nothing to watch there
      }
    }
  }

  /** The files changed since the last call. */
  takeChanged(): string[] {
    const changed = [...this.changed];
    this.changed.clear();
    return changed;
  }

  close(): void {
    for (const w of this.dirs.values()) w.close();
    this.dirs.clear();
  }

  private seen(dir: string, name: string | Buffer | null): void {
    if (name === null) return;
    const file = resolve(dir, basename(name.toString()));
    if (!this.files.has(file)) return;
    this.changed.add(file);
    this.onChange();
  }
}
