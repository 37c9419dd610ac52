// A status line at the bottom of a terminal (spinner, current stage, time) below the streamed
// lines. When the output goes to that same terminal, the status line is taken away and drawn
// again around every write, so it never ends up in the middle of the output, and the writes of
// one event-loop turn go out as one write. When the output goes elsewhere (`piko create x | tee
// log`), the status line is drawn on the terminal that is left (stderr), between bursts of output.
import { TurnBuffer } from '../../core/display/turn-writer.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/**
 * Back to the start of the status line and erase from there to the end of the screen. The status
 * line leaves the cursor at its first column, so after a terminal that reflows text shrinks (and
 * the line wraps onto two rows) this still takes all of it away: no stale half-line.
 */
const CLEAR = '\r\x1b[J';

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
  /** Whether the spinner moved since the last emit. */
  private ticked = false;
  /** Whether a whole tick passed without output (the status line's own terminal only). */
  private idle = false;
  private readonly redraw = (): void => this.schedule();

  /**
   * @param out where the output goes
   * @param screen the terminal the status line is drawn on: `out` itself, or stderr when `out` is not a terminal
   */
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly screen: NodeJS.WriteStream,
    private readonly intervalMs = 100,
  ) {
    super();
    screen.on('resize', this.redraw);
  }

  /** Where the status line's text comes from; it is redrawn every interval while there is one. */
  setStatus(status: StatusSource): void {
    this.status = status;
    this.timer ??= setInterval(() => {
      this.frame = (this.frame + 1) % SPINNER.length;
      this.ticked = true;
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
    this.screen.off('resize', this.redraw);
    this.status = () => undefined;
    this.drawWithout();
  }

  private drawWithout(): void {
    this.withStatus = false;
    this.flush();
    this.withStatus = true;
  }

  /** The status line as drawn: spinner and text cut to the terminal's width, cursor left at its start. */
  private line(status: string): string {
    const width = Math.max(20, (this.screen.columns || 80) - 1);
    const line = `${SPINNER[this.frame]} ${status}`;
    return `${line.length > width ? `${line.slice(0, width - 1)}…` : line}\r`;
  }

  protected emit(text: string | Buffer): void {
    const status = this.withStatus ? this.status() : undefined;
    const ticked = this.ticked;
    this.ticked = false;
    if (this.screen === this.out) {
      const before = this.shown ? CLEAR : '';
      const after = status === undefined ? '' : this.line(status);
      this.shown = status !== undefined;
      if (typeof text !== 'string') this.out.write(Buffer.concat([Buffer.from(before), text, Buffer.from(after)]));
      else if (before + text + after !== '') this.out.write(before + text + after);
      return;
    }
    // Output that goes elsewhere may still reach this terminal (through `tee`), later and on its
    // own: the status line makes way before it, and comes back only after a tick without any.
    if (text.length > 0 || status === undefined) {
      if (this.shown) this.screen.write(CLEAR);
      this.shown = false;
      if (text.length > 0) this.out.write(text);
      this.idle = false;
      return;
    }
    if (!ticked) return;
    if (this.idle) {
      this.screen.write((this.shown ? CLEAR : '') + this.line(status));
      this.shown = true;
    }
    this.idle = true;
  }
}
