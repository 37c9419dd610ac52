// What every command that shows an operation writes through: on a terminal, coloured lines with
// a live status line below them; on a pipe, plain lines; with `--json`, NDJSON. Lines of piko's
// own go to stderr, after whatever output is pending.
import { pikoHome } from '../../core/paths.js';
import type { CompleteMessage, MessageRenderer } from '../../core/protocol/messages.js';
import { splitName } from '../../core/environment/names.js';
import { LiveTerminal } from './live-terminal.js';
import { CoalescingWriter, type Sink } from '../../core/display/turn-writer.js';
import { JsonRenderer, TerminalRenderer } from './render.js';
import { colorEnabled } from './say.js';

export interface Output {
  home: string;
  renderer: MessageRenderer;
  out: Sink;
  /** A line of piko's own to stderr, after whatever output is pending. */
  say(text: string): void;
  /** Ends the output: the status line goes, everything pending is written. */
  close(): void;
  /** The operation's `complete`, once it was rendered. */
  complete?: CompleteMessage;
}

export interface OutputOptions {
  json?: boolean | undefined;
  quiet?: boolean | undefined;
  /** What the user typed to name the environment, for `piko logs <name>`. */
  name: string;
  /** When the operation started, for one that started before this command (`piko logs -f`). */
  startedAt?: number | undefined;
}

/**
 * Where the live status line goes: stdout when it is a terminal, else stderr when that is one
 * (`piko create x | tee log`), else nowhere. NO_COLOR takes colour away, not the status line;
 * `--json`, `--quiet` and a `dumb` terminal have none.
 */
function statusScreen(options: OutputOptions): NodeJS.WriteStream | undefined {
  if (options.json || options.quiet || process.env.TERM === 'dumb') return undefined;
  if (process.stdout.isTTY) return process.stdout;
  return process.stderr.isTTY ? process.stderr : undefined;
}

/**
 * The renderer and streams every command that shows an operation uses: on a terminal, coloured
 * lines with a live status line below them; on a pipe, plain lines; with `--json`, NDJSON.
 */
export function openOutput(options: OutputOptions): Output {
  const home = pikoHome();
  // A reader that went away (`| head`) is no reason to stop half-way: the operation finishes.
  process.stdout.on('error', () => undefined);
  const color = colorEnabled(process.stdout);
  const screen = statusScreen(options);
  const live = screen ? new LiveTerminal(process.stdout, screen) : undefined;
  const out: Sink = live ?? new CoalescingWriter(process.stdout);
  const say = (text: string): void => {
    const write = (): boolean => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
    if (live) live.around(write);
    else {
      out.flush();
      write();
    }
  };
  const renderer = options.json
    ? new JsonRenderer(out.write)
    : new TerminalRenderer({
        write: out.write,
        writeError: say,
        color,
        quiet: options.quiet === true,
        environment: splitName(options.name).environment,
        logsCommand: () => `piko logs ${options.name}`,
        startedAt: options.startedAt,
      });
  const shown: Output = {
    home,
    // Everything rendered passes here, so the command knows how the operation ended.
    renderer: {
      render(message) {
        if (message.type === 'complete') shown.complete = message;
        renderer.render(message);
      },
    },
    out,
    say,
    close: () => (live ? live.close() : out.flush()),
  };
  if (live && renderer instanceof TerminalRenderer) live.setStatus(renderer.status);
  return shown;
}
