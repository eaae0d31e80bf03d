/**
 * The shape of a CLI command: what `program.ts` turns into a commander command, so that each
 * group of commands (runs, deployments, the local server) lives in its own file.
 */

/** The options a command sees: the global ones, and its own (commander's camelCase names). */
export interface CommandOptions {
  /** The app's environment (`--env`, default "main"). */
  env: string;
  /** The provider whose deployments the command reaches (`--provider`, FAASADE_PROVIDER, "local"). */
  provider: string;
  json: boolean;
  verbose: boolean;
  [own: string]: string | boolean | undefined;
}

export interface Io {
  options: CommandOptions;
  /** Shorthands of `options.json` and `options.provider`. */
  json: boolean;
  provider: string;
  out(text: string): void;
  load(file: string): Promise<Record<string, unknown>>;
}

export interface CommandSpec {
  name: string;
  /** commander's argument syntax: `<file>`, `<app/function> [json-args...]`. */
  args?: string;
  /** One line, shown in `faasade --help`. */
  summary: string;
  /** More, shown in `faasade <command> --help` after the summary. */
  details?: string;
  /** `[flags, description]`, as commander's `.option()` takes them. */
  options?: [string, string][];
  /** Runs until a signal (serve, logs --follow): the CLI does not exit when `run` resolves. */
  keepsRunning?(options: CommandOptions): boolean;
  run(args: string[], io: Io): Promise<void>;
}
