// What `piko server` prints on its own stdout: an access-log line per request, each operation's
// output as `[<env> <source>] line`, and a line when an operation starts and ends.
import type { Engine, PikoPlugin } from '../../core/engine/engine.js';
import { cleanLine } from '../../core/display/clean-line.js';
import { formatDuration, prefixedLines, sourceLabel } from '../../core/display/log-lines.js';
import { CoalescingWriter } from '../../core/display/turn-writer.js';

const PLUGIN_NAME = 'ServerLogPlugin';

export interface ServerLogOutput {
  /** For lines that must be printed (an operation starting or ending). */
  write(text: string): void;
  /** For operation output (`lines` of it), which may be dropped when the server's stdout falls behind. */
  writeDroppable(text: string, lines?: number): void;
}

export class ServerLogPlugin implements PikoPlugin {
  readonly name = PLUGIN_NAME;

  constructor(private readonly out: ServerLogOutput) {}

  apply(engine: Engine): void {
    engine.hooks.output.tap(PLUGIN_NAME, (message, operation) => {
      const env = (): string => `${operation.project.name}/${operation.environment.name}`;
      switch (message.type) {
        case 'accepted':
          this.out.write(`${operation.id} ${operation.kind} ${env()}: started\n`);
          return;
        case 'log':
        case 'logs': {
          // A log reader, not a terminal: what a progress line ended on, no escape sequences.
          const { text, count } = prefixedLines(message, `[${operation.environment.name} ${sourceLabel(message.source)}] `, (line) => cleanLine(line, false));
          this.out.writeDroppable(text, count);
          return;
        }
        case 'complete': {
          const took = message.durationMs === undefined ? '' : ` in ${formatDuration(message.durationMs)}`;
          this.out.write(
            message.success
              ? `${operation.id} ${operation.kind} ${env()}: succeeded${took}\n`
              : `${operation.id} ${operation.kind} ${env()}: failed${took}: ${message.error}\n`,
          );
          return;
        }
        default:
          return;
      }
    });
  }
}

/** The server's stdout: coalesced, and dropping operation output when its reader falls 4 MiB behind. */
export function serverOutput(): CoalescingWriter {
  // A reader that went away (EPIPE) must not take the server down: only this output stops.
  process.stdout.on('error', () => undefined);
  return new CoalescingWriter(process.stdout, {
    maxBacklogBytes: 4 * 1024 * 1024,
    droppedNotice: (count) =>
      `[piko] ${count} lines of operation output were not printed here (this output fell behind); the operation logs have them\n`,
  });
}
