// A terminal with a status line at the bottom (spinner, current stage, time) that streamed
// lines scroll above. The status line is erased and drawn again around every write, so it never
// ends up in the middle of the output; writes of one event-loop turn go out as one write.
// Only for a TTY: on a pipe, output is plain lines.
import { TurnBuffer } from './output.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ERASE_LINE = '\r\x1b[2K';

export interface StatusSource {
  /** The status line's text without the spinner, or undefined for no status line. */
  (): string | undefined;
}

export class LiveTerminal extends TurnBuffer {
  private shown = false;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private status: StatusSource = () => undefined;
  /** Whether the next emit draws the status line (not while something else writes around it). */
  private withStatus = true;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly intervalMs = 100,
  ) {
    super();
  }

  /** Where the status line's text comes from; it is redrawn every interval while there is one. */
  setStatus(status: StatusSource): void {
    this.status = status;
    this.timer ??= setInterval(() => {
      this.frame = (this.frame + 1) % SPINNER.length;
      this.schedule();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Writes through `write` elsewhere (stderr, say) with the status line out of the way. */
  around(write: () => void): void {
    this.drawWithout();
    write();
    this.schedule();
  }

  /** Removes the status line for good. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.status = () => undefined;
    this.drawWithout();
  }

  private drawWithout(): void {
    this.withStatus = false;
    this.flush();
    this.withStatus = true;
  }

  protected emit(text: string): void {
    const status = this.withStatus ? this.status() : undefined;
    if (text === '' && !this.shown && status === undefined) return;
    let out = (this.shown ? ERASE_LINE : '') + text;
    this.shown = status !== undefined;
    if (status !== undefined) {
      const width = Math.max(20, (this.stream.columns || 80) - 1);
      const line = `${SPINNER[this.frame]} ${status}`;
      out += line.length > width ? `${line.slice(0, width - 1)}…` : line;
    }
    if (out !== '') this.stream.write(out);
  }
}
