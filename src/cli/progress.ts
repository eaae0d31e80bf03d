/**
 * A one-line progress indicator for long CLI work, on stderr and only on a TTY: piped or
 * `--json` output stays clean.
 */
export interface Progress {
  update(text: string): void;
  done(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export function progress(stream: NodeJS.WriteStream & { isTTY?: boolean } = process.stderr, enabled = true): Progress {
  if (!enabled || stream.isTTY !== true) return { update() {}, done() {} };
  let text = "";
  let frame = 0;
  const started = Date.now();
  const draw = () => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text}${seconds > 0 ? ` (${seconds} s)` : ""}`);
  };
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    update(next) {
      text = next;
      draw();
    },
    done() {
      clearInterval(timer);
      stream.write("\r\x1b[2K");
    },
  };
}
