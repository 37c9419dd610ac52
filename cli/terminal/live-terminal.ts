// A terminal with a status line at the bottom (spinner, current stage, time) that streamed
// lines scroll above. The status line is erased and drawn again around every write, so it never
// ends up in the middle of the output; writes of one event-loop turn go out as one write.
// Only for a TTY: on a pipe, output is plain lines.

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ERASE_LINE = '\r\x1b[2K';

export interface Sink {
  write(text: string): void;
  flush(): void;
}

export interface StatusSource {
  /** The status line's text without the spinner, or undefined for no status line. */
  (): string | undefined;
}

export class LiveTerminal implements Sink {
  private parts: string[] = [];
  private scheduled = false;
  private shown = false;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private status: StatusSource = () => undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly intervalMs = 100,
  ) {}

  /** Where the status line's text comes from; it is redrawn every interval while there is one. */
  setStatus(status: StatusSource): void {
    this.status = status;
    this.timer ??= setInterval(() => {
      this.frame = (this.frame + 1) % SPINNER.length;
      this.schedule();
    }, this.intervalMs);
    this.timer.unref();
  }

  readonly write = (text: string): void => {
    this.parts.push(text);
    this.schedule();
  };

  /** Writes through `write` elsewhere (stderr, say) with the status line out of the way. */
  around(write: () => void): void {
    this.draw(false);
    write();
    this.schedule();
  }

  readonly flush = (): void => {
    this.draw(true);
  };

  /** Removes the status line for good. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.status = () => undefined;
    this.draw(false);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private draw(withStatus: boolean): void {
    this.scheduled = false;
    const text = withStatus ? this.status() : undefined;
    if (this.parts.length === 0 && !this.shown && text === undefined) return;
    let out = this.shown ? ERASE_LINE : '';
    out += this.parts.join('');
    this.parts = [];
    this.shown = text !== undefined;
    if (text !== undefined) {
      const width = Math.max(20, (this.stream.columns || 80) - 1);
      const line = `${SPINNER[this.frame]} ${text}`;
      out += line.length > width ? `${line.slice(0, width - 1)}…` : line;
    }
    if (out !== '') this.stream.write(out);
  }
}
