/**
 * A one-line progress indicator for long CLI work, on stderr and only on a TTY: piped or
 * `--json` output stays clean. Work that ends within SHOW_AFTER_MS draws nothing; longer work
 * ends with its last step left on a line of its own, so that what the command prints next never
 * runs into the spinner, even in a transcript that drops the terminal's escape codes.
 */
export interface Progress {
  update(text: string): void;
  done(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const SHOW_AFTER_MS = 250;
const CLEAR_LINE = "\r\x1b[2K";

export function progress(stream: NodeJS.WriteStream & { isTTY?: boolean } = process.stderr, enabled = true): Progress {
  if (!enabled || stream.isTTY !== true) return { update() {}, done() {} };
  let text = "";
  let frame = 0;
  let drawn = false;
  let finished = false;
  const started = performance.now();
  const elapsed = () => Math.floor((performance.now() - started) / 1000);
  const draw = () => {
    if (finished || performance.now() - started < SHOW_AFTER_MS) return;
    drawn = true;
    const seconds = elapsed();
    stream.write(`${CLEAR_LINE}${FRAMES[frame++ % FRAMES.length]} ${text}${seconds > 0 ? ` (${seconds} s)` : ""}`);
  };
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    update(next) {
      text = next;
      draw();
    },
    done() {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      if (drawn) stream.write(`${CLEAR_LINE}${text} (${Math.max(1, elapsed())} s)\n`);
    },
  };
}
